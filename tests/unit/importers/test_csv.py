"""CSV exports: presets and mappings, exact values, dialects, encodings, ids and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from dashtam.core.result import Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.statement import ImportLimits, ParsedStatement
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.importers.csv_file import CSV_ACCOUNT_ID, CsvParser, layout_from
from dashtam.infrastructure.importers.csv_presets import PRESETS, CsvLayout
from tests.unit.importers.support import LIMITS, fixture, parsed, refused

EUROPEAN = {
    "date": "Buchungstag",
    "description": "Empfänger",
    "memo": "Verwendungszweck",
    "amount": "Betrag",
    "decimal_separator": ",",
    "currency": "EUR",
}
SIMPLE = {"date": "Date", "description": "Description", "amount": "Amount"}


def parse_with(data: bytes, *, preset: str | None = None, **mapping: Any) -> ParsedStatement:
    layout = layout_from(preset, mapping or None)
    assert isinstance(layout, Success), layout
    return parsed(CsvParser(layout.value).parse(data, limits=LIMITS))


def parse_error(data: bytes, code: str, *, limits: ImportLimits = LIMITS, **mapping: Any) -> Any:
    layout = layout_from(None, mapping or SIMPLE)
    assert isinstance(layout, Success), layout
    return refused(CsvParser(layout.value).parse(data, limits=limits), code)


def rows(statement: ParsedStatement) -> list[tuple[Decimal, date, str]]:
    return [(t.amount, t.posted_on, t.description) for t in statement.accounts[0].transactions]


def test_chase_checking_preset() -> None:
    statement = parse_with(fixture("chase_checking.csv"), preset="chase-checking")
    [account] = statement.accounts
    assert statement.format == "csv"
    assert account.provider_account_id == CSV_ACCOUNT_ID
    assert account.account_type is AccountType.CHECKING
    assert account.currency == "USD"
    # Newest first in the file: the closing balance is the first row's.
    assert account.balance == Decimal("4873.12")
    assert account.balance_as_of == datetime(2026, 11, 18, tzinfo=UTC)
    assert rows(statement) == [
        (Decimal("-54.21"), date(2026, 11, 18), "TRADER JOE S #552 QPS SAN FRANCISCO CA"),
        (
            Decimal("2750.00"),
            date(2026, 11, 15),
            "ACME CORP       PAYROLL                    PPD ID: 9876543210",
        ),
        (Decimal("-3.50"), date(2026, 11, 12), "=cmd|' /C calc'!A0"),
        (Decimal("-1200.00"), date(2026, 11, 10), "CHECK 1043"),
        (Decimal("-4.75"), date(2026, 11, 10), "BLUE BOTTLE COFFEE"),
        (Decimal("-4.75"), date(2026, 11, 10), "BLUE BOTTLE COFFEE"),
    ]
    assert all(t.status is TransactionStatus.POSTED for t in account.transactions)


def test_identical_rows_get_distinct_ids_that_are_stable_across_parses() -> None:
    first = parse_with(fixture("chase_checking.csv"), preset="chase-checking")
    again = parse_with(fixture("chase_checking.csv"), preset="chase-checking")
    ids = [t.provider_transaction_id for t in first.accounts[0].transactions]
    assert len(set(ids)) == len(ids) == 6
    assert ids == [t.provider_transaction_id for t in again.accounts[0].transactions]
    assert all(i.startswith("csv:") for i in ids)
    # Unrelated rows before them do not renumber the two coffees.
    coffees = "\n".join(
        fixture("chase_checking.csv").decode().splitlines()[0:1]
        + [line for line in fixture("chase_checking.csv").decode().splitlines() if "BLUE" in line]
    )
    alone = parse_with(coffees.encode(), preset="chase-checking")
    assert [t.provider_transaction_id for t in alone.accounts[0].transactions] == ids[4:]


def test_bank_of_america_header_is_found_after_the_summary_block() -> None:
    statement = parse_with(fixture("bank_of_america.csv"), preset="bank-of-america")
    [account] = statement.accounts
    assert rows(statement) == [
        (Decimal("-15.49"), date(2026, 11, 3), "NETFLIX.COM DES:NETFLIX.C ID:XXXXX"),
        (Decimal("2500.00"), date(2026, 11, 5), "ACME CORP DES:PAYROLL ID:XXXXX"),
        (Decimal("-1230.18"), date(2026, 11, 19), "Zelle payment to JANE DOE Conf# abc123"),
    ]
    # The "Beginning balance" line carries a balance, not a transaction; oldest first here.
    assert account.balance == Decimal("2254.33")
    assert account.balance_as_of == datetime(2026, 11, 19, tzinfo=UTC)
    *_, last = CsvParser(PRESETS["bank-of-america"]).stream(
        fixture("bank_of_america.csv"), limits=LIMITS, batch_size=10
    )
    assert last.unwrap().skipped == {"balance lines": 1}


def test_european_semicolon_decimal_comma_cp1252() -> None:
    data = fixture("european_semicolon.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is a Windows code page file
    statement = parse_with(data, **EUROPEAN)
    [account] = statement.accounts
    assert account.currency == "EUR"
    assert account.balance is None
    assert rows(statement) == [
        (Decimal("-23.45"), date(2026, 11, 3), "REWE Markt GmbH"),
        (Decimal("3210.00"), date(2026, 11, 5), "Arbeitgeber AG"),
    ]
    assert [t.memo for t in account.transactions] == ["Kartenzahlung", "Gehalt November"]


def test_utf8_bom_file() -> None:
    data = '\ufeffDate,Description,Amount\n2026-11-02,Café Müller,"-1,234.56"\n'.encode()
    statement = parse_with(data, **SIMPLE)
    assert rows(statement) == [(Decimal("-1234.56"), date(2026, 11, 2), "Café Müller")]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(delimiter: str) -> None:
    lines = [["Date", "Description", "Amount"], ["2026-11-02", "Shop", "-5.10"]]
    data = "\n".join(delimiter.join(line) for line in lines).encode()
    assert rows(parse_with(data, **SIMPLE)) == [(Decimal("-5.10"), date(2026, 11, 2), "Shop")]


def test_debit_and_credit_columns() -> None:
    data = (
        b"Date,Description,Debit,Credit\n"
        b"2026-11-02,Rent,1200.00,\n"
        b"2026-11-03,Salary,,3000.00\n"
        b"2026-11-04,Signed debit,-7.25,\n"
        b"2026-11-05,Both,10.00,2.50\n"
    )
    statement = parse_with(
        data, date="Date", description="Description", debit="Debit", credit="Credit"
    )
    assert [t.amount for t in statement.accounts[0].transactions] == [
        Decimal("-1200.00"),
        Decimal("3000.00"),
        Decimal("-7.25"),
        Decimal("-7.50"),
    ]


def test_negate_flips_card_purchases() -> None:
    data = b"Date,Description,Amount\n2026-11-02,Purchase,25.00\n2026-11-03,Payment,-100.00\n"
    statement = parse_with(data, negate="true", account_type="credit_card", **SIMPLE)
    assert [t.amount for t in statement.accounts[0].transactions] == [
        Decimal("-25.00"),
        Decimal("100.00"),
    ]
    assert statement.accounts[0].account_type is AccountType.CREDIT_CARD
    kept = parse_with(data, negate="no", **SIMPLE)
    assert [t.amount for t in kept.accounts[0].transactions] == [
        Decimal("25.00"),
        Decimal("-100.00"),
    ]


def test_status_column_marks_pending_and_given_ids_are_kept() -> None:
    data = (
        b"Date,Description,Amount,Status,Id\n"
        b"2026-11-02,Coffee,-3.00,Pending,tx-1\n"
        b"2026-11-02,Coffee,-3.00,POSTED,tx-2\n"
        b"2026-11-03,Tea,-2.00,,tx-3\n"
    )
    statement = parse_with(data, status="Status", transaction_id="Id", **SIMPLE)
    assert [(t.provider_transaction_id, t.status) for t in statement.accounts[0].transactions] == [
        ("tx-1", TransactionStatus.PENDING),
        ("tx-2", TransactionStatus.POSTED),
        ("tx-3", TransactionStatus.POSTED),
    ]


@pytest.mark.parametrize(
    "cell",
    ["=cmd|' /C calc'!A0", "+SUM(A1:A2)", "-2+3", "@SUM(1)", '=HYPERLINK("http://x")'],
)
def test_formula_looking_cells_are_kept_verbatim(cell: str) -> None:
    quoted = '"' + cell.replace('"', '""') + '"'
    data = f"Date,Description,Amount,Memo\n2026-11-02,{quoted},-1.00,{quoted}\n".encode()
    [transaction] = parse_with(data, memo="Memo", **SIMPLE).accounts[0].transactions
    assert transaction.description == cell
    assert transaction.memo == cell


def test_empty_lines_are_skipped_and_payee_is_read() -> None:
    data = b"Date,Description,Amount,Who\n\n2026-11-02,Shop,-1.00,Alice\n,,,\n"
    [transaction] = parse_with(data, payee="Who", **SIMPLE).accounts[0].transactions
    assert transaction.payee == "Alice"


def test_account_name_option_names_the_provider_account() -> None:
    layout = layout_from(None, SIMPLE)
    assert isinstance(layout, Success)
    data = b"Date,Description,Amount\n2026-11-02,Shop,-1.00\n"
    statement = parsed(CsvParser(layout.value, account=" joint ").parse(data, limits=LIMITS))
    assert statement.accounts[0].provider_account_id == "joint"


@pytest.mark.parametrize(
    ("name", "preset", "code", "location"),
    [
        ("malformed_date.csv", "chase-checking", "invalid_date", "line 3"),
        ("malformed_amount.csv", "chase-checking", "invalid_amount", 'line 3 column "Amount"'),
    ],
)
def test_malformed_fixtures_name_the_line(name: str, preset: str, code: str, location: str) -> None:
    result = CsvParser(PRESETS[preset]).parse(fixture(name), limits=LIMITS)
    assert refused(result, code).details["location"] == location


@pytest.mark.parametrize(
    ("data", "code", "location"),
    [
        (b"Date,Description,Amount\n2026-11-02,,-1\n", "invalid_file", "line 2"),
        (
            b"Date,Description,Amount\n2026-11-02,X,1e3\n",
            "invalid_amount",
            'line 2 column "Amount"',
        ),
        (
            b"Date,Description,Amount\n2026-11-02,X,1.23456\n",
            "invalid_amount",
            'line 2 column "Amount"',
        ),
        (b"Date,Description,Amount\nyesterday,X,1\n", "invalid_date", "line 2"),
        (b"Date,Description,Amount\n2026-11-02\n", "invalid_csv", "line 2"),
    ],
)
def test_bad_rows_are_refused_with_their_line(data: bytes, code: str, location: str) -> None:
    assert parse_error(data, code).details["location"] == location


def test_a_row_cut_short_is_refused_not_skipped() -> None:
    data = b"Date,Description,Amount\n2026-11-02,X,1\n2026-11-03\n"
    assert parse_error(data, "invalid_csv").details["location"] == "line 3"


def test_missing_header_and_header_only_files() -> None:
    parse_error(b"Foo,Bar\n1,2\n", "invalid_csv")
    parse_error(b"Date,Description,Amount\n", "empty_file")
    parse_error(b"", "empty_file")
    parse_error(b" \r\n", "empty_file")


def test_too_many_rows() -> None:
    data = b"Date,Description,Amount\n" + b"2026-11-02,X,-1\n" * 3
    assert len(parse_with(data, **SIMPLE).accounts[0].transactions) == 3
    parsed(
        CsvParser(PRESETS["bank-of-america"]).parse(
            fixture("bank_of_america.csv"), limits=ImportLimits(max_transactions=3)
        )
    )
    parse_error(data, "too_many_rows", limits=ImportLimits(max_transactions=2))


def test_rows_without_debit_or_credit_are_skipped_as_balance_lines() -> None:
    data = b"Date,Description,Debit,Credit\n2026-11-02,Opening,,\n2026-11-03,Coffee,3.00,\n"
    statement = parse_with(
        data, date="Date", description="Description", debit="Debit", credit="Credit"
    )
    assert rows(statement) == [(Decimal("-3.00"), date(2026, 11, 3), "Coffee")]


# --- layout_from ---------------------------------------------------------------------------


def test_layout_from_a_preset_is_the_preset() -> None:
    assert layout_from("chase-checking", None) == Success(PRESETS["chase-checking"])
    assert layout_from("chase-checking", {"bogus": "x"}) == Success(PRESETS["chase-checking"])


@pytest.mark.parametrize(
    ("preset", "mapping", "fragment"),
    [
        ("no-such-bank", None, "no-such-bank"),
        (None, None, "preset or a mapping"),
        (None, {}, "preset or a mapping"),
        (None, {**SIMPLE, "colour": "x", "amt": "y"}, "amt, colour"),
        (None, {"description": "D", "amount": "A"}, "'date'"),
        (None, {"date": "D", "amount": "A"}, "'description'"),
        (None, {"date": "D", "description": "X"}, "'debit'/'credit'"),
        (None, {**SIMPLE, "account_type": "piggy_bank"}, "piggy_bank"),
    ],
)
def test_layout_from_refuses(
    preset: str | None, mapping: dict[str, str] | None, fragment: str
) -> None:
    result = layout_from(preset, mapping)
    assert not isinstance(result, Success)
    assert result.error.code == "invalid_mapping"
    assert fragment in result.error.message


def test_layout_from_refuses_unknown_currency_and_normalises_known() -> None:
    result = layout_from(None, {**SIMPLE, "currency": "XXQ"})
    assert not isinstance(result, Success)
    assert result.error.code == "invalid_currency"
    layout = layout_from(None, {**SIMPLE, "currency": " eur ", "account_type": "savings"})
    assert isinstance(layout, Success)
    assert isinstance(layout.value, CsvLayout)  # a mapping is one layout, not a preset
    assert layout.value.currency == "EUR"
    assert layout.value.account_type is AccountType.SAVINGS
    assert layout.value.negate is False


def test_layout_from_accepts_debit_or_credit_alone() -> None:
    assert isinstance(layout_from(None, {"date": "D", "description": "X", "debit": "O"}), Success)
    assert isinstance(layout_from(None, {"date": "D", "description": "X", "credit": "I"}), Success)
