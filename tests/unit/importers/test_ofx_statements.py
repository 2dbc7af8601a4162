"""Statements in a file: several accounts of every kind, bank errors, transaction ids."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dashtam.core.result import Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, bank_ofx, fixture, parsed, refused, stmttrn


def test_bank_card_and_investment_statements_all_import_in_file_order() -> None:
    parts = [
        part.unwrap()
        for part in OfxParser().stream(
            fixture("mixed_bank_card_investment.ofx"), limits=LIMITS, batch_size=10
        )
    ]
    # In file order: each statement closes with one part that carries its balances.
    assert [(p.account.provider_account_id, p.account.account_type) for p in parts] == [
        ("Z-1234", AccountType.BROKERAGE),
        ("111122223333", AccountType.CHECKING),
        ("111122224444", AccountType.SAVINGS),
        ("5500000000000004", AccountType.CREDIT_CARD),
    ]
    assert all(not part.skipped for part in parts)
    assert [p.investment is not None for p in parts] == [True, False, False, False]
    assert [[t.provider_transaction_id for t in p.transactions] for p in parts] == [
        ["INV-CASH-1"],  # the brokerage account's cash line (INVBANKTRAN)
        ["B-77"],
        ["S-1"],
        ["C-9"],
    ]
    # The brokerage statement states neither cash (no INVBAL) nor positions.
    assert [p.account.balance for p in parts] == [
        None,
        Decimal("2400.00"),
        None,
        Decimal("-42.00"),
    ]
    assert (parts[-1].done, parts[-1].total) == (4, 4)


def test_a_file_of_investment_statements_only_is_imported() -> None:
    [account] = parsed(OfxParser().parse(fixture("investments_only.qfx"), limits=LIMITS)).accounts
    assert (account.provider_account_id, account.account_type) == (
        "Z-1234",
        AccountType.BROKERAGE,
    )
    assert account.balance == Decimal("2105.00")  # its one position, no cash stated
    [part] = OfxParser().stream(fixture("investments_only.qfx"), limits=LIMITS, batch_size=10)
    investment = part.unwrap().investment
    assert investment is not None
    [position] = investment.positions
    assert (position.units, position.unit_price, position.market_value) == (
        Decimal("10"),
        Decimal("210.50"),
        Decimal("2105.00"),
    )


def test_an_error_status_from_the_bank_is_shown_with_its_message() -> None:
    error = refused(
        OfxParser().parse(fixture("bank_error_status.ofx"), limits=LIMITS), "bank_error"
    )
    assert "Statement temporarily unavailable, try again later" in error.message
    assert "2000" in error.message
    assert error.details == {"location": "STMTTRNRS STATUS"}


def test_a_signon_error_without_a_message_is_explained_from_its_code() -> None:
    data = bank_ofx(stmttrn()).replace(
        b"<OFX>",
        b"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500</CODE><SEVERITY>ERROR</SEVERITY>"
        b"</STATUS><DTSERVER>20261201</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS>"
        b"</SIGNONMSGSRSV1>",
    )
    error = refused(OfxParser().parse(data, limits=LIMITS), "bank_error")
    assert "user id or password" in error.message
    assert error.details == {"location": "SONRS STATUS"}


def test_warnings_and_informational_statuses_do_not_stop_the_import() -> None:
    data = bank_ofx(stmttrn()).replace(b"<SEVERITY>INFO", b"<SEVERITY>WARN")
    assert parsed(OfxParser().parse(data, limits=LIMITS)).transaction_count() == 1


def test_reused_fitids_keep_distinct_transactions_and_exact_repeats_are_read_once() -> None:
    data = fixture("fitid_reuse.ofx")
    first = parsed(OfxParser().parse(data, limits=LIMITS))
    again = parsed(OfxParser().parse(data, limits=LIMITS))
    transactions = first.accounts[0].transactions
    ids = [t.provider_transaction_id for t in transactions]

    assert [(t.payee, t.amount) for t in transactions] == [
        ("ANNUAL FEE", Decimal("-95.00")),
        ("ANNUAL FEE REWARD CREDIT", Decimal("95.00")),
        # the third STMTTRN repeats the first exactly: read once
        ("COFFEE CART", Decimal("-3.50")),
        ("COFFEE CART", Decimal("-3.50")),  # no FITID: two real coffees, both kept
        ("BOOKS", Decimal("-18.00")),
    ]
    assert ids[0] == "20240905A"
    assert ids[1].startswith("20240905A~")
    assert ids[1] != ids[0]
    assert ids[2] != ids[3]
    assert ids[4] == "20240911B"
    assert len(set(ids)) == 5
    assert [t.provider_transaction_id for t in again.accounts[0].transactions] == ids


def test_a_derived_id_depends_on_the_content_not_on_the_position() -> None:
    coffee = stmttrn(fitid=None, name="COFFEE", amount="-3.50")
    alone = parsed(OfxParser().parse(bank_ofx(coffee), limits=LIMITS))
    later = parsed(
        OfxParser().parse(bank_ofx(stmttrn(fitid="X", name="OTHER"), coffee), limits=LIMITS)
    )
    other = parsed(
        OfxParser().parse(bank_ofx(stmttrn(fitid=None, name="TEA", amount="-3.50")), limits=LIMITS)
    )
    coffee_id = alone.accounts[0].transactions[0].provider_transaction_id
    assert later.accounts[0].transactions[1].provider_transaction_id == coffee_id
    assert other.accounts[0].transactions[0].provider_transaction_id != coffee_id
    assert len(coffee_id) <= 255


def test_fitids_are_scoped_to_their_statement() -> None:
    two = bank_ofx(stmttrn(fitid="1", name="A")).replace(
        b"</STMTTRNRS>",
        b"</STMTTRNRS><STMTTRNRS><TRNUID>2</TRNUID><STMTRS><CURDEF>USD</CURDEF><BANKACCTFROM>"
        b"<BANKID>1</BANKID><ACCTID>999</ACCTID><ACCTTYPE>SAVINGS</ACCTTYPE></BANKACCTFROM>"
        b"<BANKTRANLIST>" + stmttrn(fitid="1", name="B").encode() + b"</BANKTRANLIST>"
        b"</STMTRS></STMTTRNRS>",
    )
    statement = parsed(OfxParser().parse(two, limits=LIMITS))
    assert [
        (a.provider_account_id, a.transactions[0].provider_transaction_id)
        for a in statement.accounts
    ] == [
        ("12345678", "1"),
        ("999", "1"),
    ]


@pytest.mark.parametrize(
    ("text", "posted_on"),
    [
        ("20240131", date(2024, 1, 31)),
        ("20240131120000", date(2024, 1, 31)),
        ("20240131120000.000", date(2024, 1, 31)),
        ("20240131000000[-5:EST]", date(2024, 1, 31)),
        ("20240131235959[+9:JST]", date(2024, 1, 31)),
        ("20240131235959[-12:BIT]", date(2024, 1, 31)),
        ("20240131000000.000000[+0:UTC]", date(2024, 1, 31)),
        ("20240131 [-5:EST]", date(2024, 1, 31)),
    ],
)
def test_the_posting_date_is_the_day_the_bank_wrote(text: str, posted_on: date) -> None:
    [transaction] = (
        parsed(OfxParser().parse(bank_ofx(stmttrn(posted=text)), limits=LIMITS))
        .accounts[0]
        .transactions
    )
    assert transaction.posted_on == posted_on


def test_the_statement_end_falls_back_to_the_balance_date_then_the_server_time() -> None:
    with_dtend = parsed(OfxParser().parse(bank_ofx(stmttrn()), limits=LIMITS)).accounts[0]
    assert with_dtend.statement_end == datetime(2026, 11, 30, tzinfo=UTC)

    ledger = "<LEDGERBAL><BALAMT>1</BALAMT><DTASOF>20261215</DTASOF></LEDGERBAL>"
    no_dtend = bank_ofx(stmttrn(), ledger=ledger).replace(b"<DTEND>20261130</DTEND>", b"")
    account = parsed(OfxParser().parse(no_dtend, limits=LIMITS)).accounts[0]
    assert account.statement_end == datetime(2026, 12, 15, tzinfo=UTC)

    signon = (
        b"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        b"<DTSERVER>20261216093000[-5:EST]</DTSERVER></SONRS></SIGNONMSGSRSV1>"
    )
    server_only = bank_ofx(stmttrn()).replace(b"<DTEND>20261130</DTEND>", b"")
    account = parsed(
        OfxParser().parse(server_only.replace(b"<OFX>", signon), limits=LIMITS)
    ).accounts[0]
    assert account.statement_end == datetime(
        2026, 12, 16, 9, 30, tzinfo=timezone(timedelta(hours=-5))
    )


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("-12,50", Decimal("-12.50")),
        ("+12.50", Decimal("12.50")),
        ("1,234.56", Decimal("1234.56")),
        ("-1.234,56", Decimal("-1234.56")),
        ("  -7.00  ", Decimal("-7.00")),
        ("0", Decimal("0")),
    ],
)
def test_amounts_as_banks_write_them(text: str, amount: Decimal) -> None:
    [transaction] = (
        parsed(OfxParser().parse(bank_ofx(stmttrn(amount=text)), limits=LIMITS))
        .accounts[0]
        .transactions
    )
    assert transaction.amount == amount
    assert isinstance(transaction.amount, Decimal)


def test_a_bad_amount_says_which_transaction_and_element() -> None:
    data = bank_ofx(stmttrn(fitid="1"), stmttrn(fitid="2"), stmttrn(fitid="3", amount="12.50 USD"))
    error = refused(OfxParser().parse(data, limits=LIMITS), "invalid_amount")
    assert error.details == {"location": "STMTRS #1 STMTTRN #3 TRNAMT"}
    assert error.message.startswith("STMTRS #1 STMTTRN #3 TRNAMT: ")


def test_long_names_a_missing_memo_and_a_payee_aggregate() -> None:
    long_name = "THE VERY LONG NAME OF A MERCHANT THAT GOES ON PAST THIRTY-TWO"
    payee = "<PAYEE><NAME>CITY WATER</NAME><ADDR1>1 MAIN ST</ADDR1><CITY>X</CITY></PAYEE>"
    data = bank_ofx(stmttrn(fitid="1", name=long_name), stmttrn(fitid="2", name=None, extra=payee))
    transactions = parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].transactions
    assert [(t.payee, t.memo, t.description) for t in transactions] == [
        (long_name, None, long_name),
        ("CITY WATER", None, "CITY WATER"),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"this is not OFX at all",
        b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BROKEN",
        b"<OFX></OFX>",
        bank_ofx(stmttrn()).replace(b"</OFX>", b"</OFX>\x00\x00"),
        bank_ofx(stmttrn(amount="1e3")),
        bank_ofx(stmttrn(posted="31/01/2024")),
    ],
)
def test_errors_are_plain_language_without_internals(data: bytes) -> None:
    results = list(OfxParser().stream(data, limits=LIMITS, batch_size=10))
    messages = [r.error.message for r in results if not isinstance(r, Success)]
    for message in messages:
        assert "object at 0x" not in message
        assert "Tail text" not in message
        assert "Traceback" not in message
        assert "<_io" not in message
        assert "\\x00" not in message
