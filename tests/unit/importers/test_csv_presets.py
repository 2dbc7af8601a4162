"""Every preset on a small file shaped like its bank's export: exact rows, signs, statuses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.statement import ParsedStatement, StatementPart
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.csv_presets import PRESETS
from tests.unit.importers.support import LIMITS, fixture, parsed, refused

Row = tuple[date, Decimal, str]


def parse(name: str, preset: str) -> ParsedStatement:
    return parsed(CsvParser(layout_from(preset, None).unwrap()).parse(fixture(name), limits=LIMITS))


def rows(statement: ParsedStatement) -> list[Row]:
    return [(t.posted_on, t.amount, t.description) for t in statement.accounts[0].transactions]


def last_part(data: bytes, preset: str) -> StatementPart:
    parts = list(CsvParser(PRESETS[preset]).stream(data, limits=LIMITS, batch_size=2))
    assert all(isinstance(part, Success) for part in parts), parts
    return parts[-1].unwrap()


N26_CURRENT = [
    (date(2026, 11, 2), Decimal("-23.45"), "REWE Markt GmbH"),
    (date(2026, 11, 3), Decimal("3210.00"), "Arbeitgeber AG"),
    (date(2026, 11, 4), Decimal("-7.85"), "Pret A Manger"),
    # No partner name (a transfer to a savings space): the payment reference describes it.
    (date(2026, 11, 5), Decimal("-100.00"), "Sparen"),
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("n26_current.csv", N26_CURRENT),
        (
            "n26_legacy.csv",
            [
                (date(2022, 3, 1), Decimal("-12.3"), "Lidl Berlin"),
                (date(2022, 3, 2), Decimal("650.0"), "Max Mustermann"),
            ],
        ),
        ("n26_de.csv", N26_CURRENT[:2]),
        (
            "n26_de_legacy.csv",
            [
                (date(2022, 3, 1), Decimal("-3.4"), "Bäckerei Müller"),
                (date(2022, 3, 4), Decimal("25.0"), "Rückzahlung"),
            ],
        ),
    ],
)
def test_n26_reads_each_header_it_has_written(name: str, expected: list[Row]) -> None:
    statement = parse(name, "n26")
    [account] = statement.accounts
    assert (account.currency, account.account_type) == ("EUR", AccountType.CHECKING)
    assert rows(statement) == expected


def test_n26_memo_and_payee_come_from_their_columns() -> None:
    transactions = parse("n26_current.csv", "n26").accounts[0].transactions
    assert [(t.payee, t.memo) for t in transactions] == [
        ("REWE Markt GmbH", None),
        ("Arbeitgeber AG", "Gehalt November 2026"),
        ("Pret A Manger", None),
        (None, "Sparen"),
    ]


def test_the_english_and_german_n26_exports_of_one_row_get_one_id() -> None:
    english = parse("n26_current.csv", "n26").accounts[0].transactions[:2]
    german = parse("n26_de.csv", "n26").accounts[0].transactions
    assert [t.provider_transaction_id for t in english] == [
        t.provider_transaction_id for t in german
    ]


def test_chase_credit_keeps_the_banks_signs() -> None:
    statement = parse("chase_credit.csv", "chase-credit")
    assert statement.accounts[0].account_type is AccountType.CREDIT_CARD
    assert rows(statement) == [
        (date(2026, 11, 15), Decimal("-42.17"), "AMAZON MKTPL*AB12CD34"),
        (date(2026, 11, 13), Decimal("-51.02"), "SHELL OIL 57444"),
        (date(2026, 11, 10), Decimal("500.00"), "Payment Thank You-Mobile"),
        (date(2026, 11, 9), Decimal("12.99"), "AMAZON MKTPL*AB12CD34"),
    ]
    assert statement.accounts[0].transactions[3].memo == "Refund for order 113-55"


def test_capital_one_debits_lower_and_credits_raise() -> None:
    statement = parse("capital_one.csv", "capital-one")
    assert statement.accounts[0].account_type is AccountType.CREDIT_CARD
    assert rows(statement) == [
        (date(2026, 11, 15), Decimal("-6.45"), "STARBUCKS STORE 12345"),
        (date(2026, 11, 13), Decimal("250.00"), "CAPITAL ONE MOBILE PYMT"),
        (date(2026, 11, 11), Decimal("-1034.12"), "WHOLE FOODS #10234"),
    ]


def test_wells_fargo_has_no_header_row() -> None:
    statement = parse("wells_fargo.csv", "wells-fargo")
    assert [(d, a) for d, a, _ in rows(statement)] == [
        (date(2026, 11, 18), Decimal("-54.21")),
        (date(2026, 11, 15), Decimal("2750.00")),
        (date(2026, 11, 10), Decimal("-1200.00")),
    ]
    assert rows(statement)[2][2] == "CHECK # 1043"


def test_wells_fargo_names_the_line_of_a_bad_row() -> None:
    data = fixture("wells_fargo.csv") + b'"11/19/2026","12..00","*","","X"\r\n'
    error = refused(CsvParser(PRESETS["wells-fargo"]).parse(data, limits=LIMITS), "invalid_amount")
    assert error.details["location"] == 'line 4 column "Amount"'


def test_amex_charges_are_negated() -> None:
    statement = parse("amex.csv", "amex")
    assert statement.accounts[0].account_type is AccountType.CREDIT_CARD
    assert [a for _, a, _ in rows(statement)] == [
        Decimal("-84.12"),
        Decimal("500.00"),
        Decimal("-15.49"),
    ]


def test_amex_extended_uses_its_reference_and_multiline_cells() -> None:
    statement = parse("amex_extended.csv", "amex")
    first, payment = statement.accounts[0].transactions
    assert (first.amount, payment.amount) == (Decimal("-84.12"), Decimal("500.00"))
    assert (first.provider_transaction_id, payment.provider_transaction_id) == (
        "'320263180123456789'",
        "'320263140987654321'",
    )
    # The quoted address spans two lines; the next row still starts where it should.
    assert first.memo == "WHOLEFDS MKT 10234 SAN FRANCISCO CA\nGROCERY STORE"
    assert payment.posted_on == date(2026, 11, 10)
    for wrong, location in ((b"84.12", "line 2"), (b"-500.00", "line 5")):
        broken = fixture("amex_extended.csv").replace(wrong, b"1.2.3")
        error = refused(CsvParser(PRESETS["amex"]).parse(broken, limits=LIMITS), "invalid_amount")
        # A row is named by the line it starts on, whatever its cells span.
        assert error.details["location"] == f'{location} column "Amount"'


def test_revolut_fees_states_and_balance() -> None:
    part = last_part(fixture("revolut.csv"), "revolut")
    statement = parse("revolut.csv", "revolut")
    [account] = statement.accounts
    assert rows(statement) == [
        (date(2026, 11, 1), Decimal("500.00"), "Top-up by *1234"),
        (date(2026, 11, 2), Decimal("-23.45"), "Lidl"),
        (date(2026, 11, 3), Decimal("-100.50"), "Exchanged to USD"),  # the 0.50 fee included
        (date(2026, 11, 6), Decimal("-12.80"), "Uber"),
    ]
    assert [t.status for t in account.transactions] == [TransactionStatus.POSTED] * 3 + [
        TransactionStatus.PENDING
    ]
    assert part.skipped == {"reverted rows": 1, "declined rows": 2}
    assert (account.currency, account.balance) == ("EUR", Decimal("376.05"))
    assert account.balance_as_of == datetime(2026, 11, 3, tzinfo=UTC)


def test_revolut_takes_the_files_currency_and_refuses_a_second_one() -> None:
    gbp = fixture("revolut.csv").replace(b",EUR,", b",GBP,")
    assert parsed(CsvParser(PRESETS["revolut"]).parse(gbp, limits=LIMITS)).accounts[0].currency == (
        "GBP"
    )
    mixed = fixture("revolut.csv").replace(b"Lidl,-23.45,0.00,EUR", b"Lidl,-23.45,0.00,USD")
    error = refused(CsvParser(PRESETS["revolut"]).parse(mixed, limits=LIMITS), "invalid_currency")
    assert error.details["location"] == 'line 3 column "Currency"'
    assert "USD" in error.message
    assert "EUR" in error.message


def test_monzo_ids_dates_and_fallback_description() -> None:
    statement = parse("monzo.csv", "monzo")
    [account] = statement.accounts
    assert account.currency == "GBP"
    assert rows(statement) == [
        (date(2026, 11, 2), Decimal("-4.50"), "Pret A Manger"),
        (date(2026, 11, 3), Decimal("250.00"), "Jane Doe"),
        (date(2026, 11, 4), Decimal("-5.12"), "PAUL PARIS FRA"),  # no name: the raw text
    ]
    assert [t.provider_transaction_id for t in account.transactions] == [
        "tx_0000AbCdEf123456789012",
        "tx_0000AbCdEf123456789013",
        "tx_0000AbCdEf123456789014",
    ]
    assert account.transactions[1].memo == "Rent share"


def test_ing_netherlands_af_bij_gives_the_sign() -> None:
    statement = parse("ing_nl.csv", "ing")
    [account] = statement.accounts
    assert rows(statement) == [
        (date(2026, 11, 2), Decimal("-23.45"), "Albert Heijn 1234 AMSTERDAM"),
        (date(2026, 11, 1), Decimal("1500.00"), "Werkgever B.V."),
    ]
    # Newest first: the balance is the first row's.
    assert (account.balance, account.balance_as_of) == (
        Decimal("1476.55"),
        datetime(2026, 11, 2, tzinfo=UTC),
    )


def test_ing_netherlands_older_comma_export_without_balance() -> None:
    data = (
        b'"Datum","Naam / Omschrijving","Rekening","Tegenrekening","Code","Af Bij",'
        b'"Bedrag (EUR)","Mutatiesoort","Mededelingen"\r\n'
        b'"20201102","Albert Heijn","NL91INGB0001234567","","BA","Af","1,99",'
        b'"Betaalautomaat",""\r\n'
        b'"20201103","Verkeerd","NL91INGB0001234567","","BA","Misschien","1,99","",""\r\n'
    )
    error = refused(CsvParser(PRESETS["ing"]).parse(data, limits=LIMITS), "invalid_amount")
    assert error.details["location"] == 'line 3 column "Af Bij"'
    good = data.rsplit(b'"20201103"', 1)[0]
    assert rows(parsed(CsvParser(PRESETS["ing"]).parse(good, limits=LIMITS))) == [
        (date(2020, 11, 2), Decimal("-1.99"), "Albert Heijn")
    ]


def test_ing_germany_after_its_preamble_in_windows_1252() -> None:
    data = fixture("ing_de.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    statement = parse("ing_de.csv", "ing")
    [account] = statement.accounts
    assert rows(statement) == [
        (date(2026, 11, 18), Decimal("-54.32"), "REWE Markt GmbH"),
        (date(2026, 11, 15), Decimal("2800.00"), "Arbeitgeber AG"),
        (date(2026, 11, 3), Decimal("-85.00"), "Stadtwerke München"),
    ]
    assert account.transactions[0].memo == "REWE SAGT DANKE 12345"
    assert (account.currency, account.balance) == ("EUR", Decimal("2345.67"))


def test_ing_germany_errors_count_the_preamble_lines() -> None:
    data = fixture("ing_de.csv").replace(b"-85,00", b"-85,0,0")
    error = refused(CsvParser(PRESETS["ing"]).parse(data, limits=LIMITS), "invalid_amount")
    assert error.details["location"] == 'line 18 column "Betrag"'


def test_unknown_preset_lists_the_known_ones() -> None:
    result = layout_from("barclays", None)
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_mapping"
    for name in ("amex", "capital-one", "generic", "ing", "monzo", "n26", "revolut"):
        assert name in result.error.message
    assert "barclays" in result.error.message


def test_every_preset_named_in_the_reference_exists() -> None:
    assert set(PRESETS) == {
        "amex",
        "bank-of-america",
        "capital-one",
        "chase-checking",
        "chase-credit",
        "generic",
        "ing",
        "monzo",
        "n26",
        "revolut",
        "wells-fargo",
    }
