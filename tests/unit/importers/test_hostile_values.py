"""Control characters, huge amounts and dates at the edge of time: refused or cleaned alike on
every backend (PostgreSQL text cannot hold NUL; SQLite's scaled integer overflows at 9.22e14)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dashtam.core.result import Failure, Success
from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.ofx import OfxParser
from dashtam.infrastructure.importers.safety import clean_text
from tests.unit.importers.support import LIMITS, bank_ofx, parsed, refused, stmttrn

SIMPLE = {"date": "Date", "description": "Description", "amount": "Amount"}
WITH_ID = {**SIMPLE, "payee": "Payee", "memo": "Memo", "transaction_id": "Id"}


def csv_parse(data: bytes, mapping: dict[str, Any] = WITH_ID, account: str | None = None) -> Any:
    layout = layout_from(None, mapping)
    assert isinstance(layout, Success), layout
    return CsvParser(layout.value, account=account).parse(data, limits=LIMITS)


def csv_row(
    *, description: str = "Coffee", payee: str = "Cafe", memo: str = "m", ident: str = "T1"
) -> bytes:
    return (
        "Date,Description,Amount,Payee,Memo,Id\n"
        f'2026-11-02,"{description}",-3.50,"{payee}","{memo}","{ident}"\n'
    ).encode()


def test_free_text_loses_c0_controls_but_keeps_tab_and_newline() -> None:
    assert clean_text("a\x00b\x01c\td\ne\rf\x1b\x7f") == "abc\td\nef\x7f"


def test_ofx_free_text_is_cleaned() -> None:
    data = bank_ofx(stmttrn(name="SH\x00OP\x07", memo="po\x00s\tx"))
    [transaction] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].transactions
    assert (transaction.description, transaction.payee, transaction.memo) == (
        "SHOP",
        "SHOP",
        "pos\tx",
    )


@pytest.mark.parametrize(
    ("data", "location"),
    [
        (bank_ofx(stmttrn(fitid="T\x001")), "STMTRS #1 STMTTRN #1 FITID"),
        (bank_ofx(stmttrn(fitid="T\x1b1")), "STMTRS #1 STMTTRN #1 FITID"),
        (bank_ofx(stmttrn(), account_id="123\x00456"), "STMTRS #1 BANKACCTFROM/ACCTID"),
    ],
    ids=["fitid-nul", "fitid-escape", "acctid-nul"],
)
def test_ofx_identifiers_with_control_characters_are_refused(data: bytes, location: str) -> None:
    error = refused(OfxParser().parse(data, limits=LIMITS), "invalid_file")
    assert error.details["location"] == location
    assert "control character" in error.message


def test_csv_free_text_is_cleaned() -> None:
    data = csv_row(description="Cof\x00fee", payee="Ca\x00fe", memo="a\x0bb")
    [transaction] = parsed(csv_parse(data)).accounts[0].transactions
    assert (transaction.description, transaction.payee, transaction.memo) == (
        "Coffee",
        "Cafe",
        "ab",
    )


def test_csv_description_of_only_controls_is_empty_and_refused() -> None:
    error = refused(csv_parse(csv_row(description="\x00\x01")), "invalid_file")
    assert error.details["location"] == "line 2"


def test_csv_transaction_id_with_a_control_character_is_refused() -> None:
    error = refused(csv_parse(csv_row(ident="T\x001")), "invalid_file")
    assert error.details["location"] == 'line 2 column "Id"'
    assert "control character" in error.message


def test_csv_account_name_with_a_control_character_is_refused() -> None:
    error = refused(csv_parse(csv_row(), account="joint\x00"), "invalid_file")
    assert error.details["location"] == "account"


def test_a_mapping_naming_a_column_with_a_control_character_is_refused() -> None:
    result = layout_from(None, {**SIMPLE, "memo": "Me\x00mo"})
    assert isinstance(result, Failure)
    assert result.error.code == "invalid_mapping"


def test_a_tab_delimiter_is_still_a_valid_mapping() -> None:
    data = b"Date\tDescription\tAmount\n2026-11-02\tCoffee\t-3.50\n"
    statement = parsed(csv_parse(data, {**SIMPLE, "delimiter": "\t"}))
    assert statement.transaction_count() == 1


@pytest.mark.parametrize("amount", ["922337203685477.58", "100000000000000", "-1e15"])
def test_ofx_amounts_beyond_what_both_databases_hold_are_refused(amount: str) -> None:
    data = bank_ofx(stmttrn(amount=amount.replace("-1e15", "-1000000000000000")))
    error = refused(OfxParser().parse(data, limits=LIMITS), "invalid_amount")
    assert error.details["location"].endswith("TRNAMT")


def test_ofx_balance_beyond_what_both_databases_hold_is_refused() -> None:
    ledger = "<LEDGERBAL><BALAMT>9223372036854775.807</BALAMT></LEDGERBAL>"
    error = refused(
        OfxParser().parse(bank_ofx(stmttrn(), ledger=ledger), limits=LIMITS), "invalid_amount"
    )
    assert error.details["location"].endswith("LEDGERBAL/BALAMT")


def test_the_largest_accepted_amount_parses() -> None:
    data = bank_ofx(stmttrn(amount="-99999999999999.9999"))
    [transaction] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].transactions
    assert str(transaction.amount) == "-99999999999999.9999"


@pytest.mark.parametrize("amount", ["922337203685477.58", "-100000000000000.00"])
def test_csv_amounts_beyond_what_both_databases_hold_are_refused(amount: str) -> None:
    data = f"Date,Description,Amount\n2026-11-02,Big,{amount}\n".encode()
    error = refused(csv_parse(data, SIMPLE), "invalid_amount")
    assert error.details["location"] == 'line 2 column "Amount"'


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("DTPOSTED", "99991231235959[-12:X]"),
        ("DTPOSTED", "00010101000000[+14:X]"),
        ("DTPOSTED", "18991231"),
        ("DTASOF", "99991231235959[-5:EST]"),
        ("DTASOF", "00010101000000[+5]"),
        ("DTASOF", "99991231"),
    ],
)
def test_ofx_dates_outside_the_plausible_range_are_refused(where: str, text: str) -> None:
    if where == "DTPOSTED":
        data = bank_ofx(stmttrn(posted=text))
    else:
        ledger = f"<LEDGERBAL><BALAMT>1</BALAMT><DTASOF>{text}</DTASOF></LEDGERBAL>"
        data = bank_ofx(stmttrn(), ledger=ledger)
    error = refused(OfxParser().parse(data, limits=LIMITS), "invalid_date")
    assert error.details["location"].endswith(where)


def test_ofx_dates_at_the_edges_of_the_range_are_accepted() -> None:
    ledger = "<LEDGERBAL><BALAMT>1</BALAMT><DTASOF>29991231235959[-12:X]</DTASOF></LEDGERBAL>"
    data = bank_ofx(stmttrn(posted="19000101000000[+14:X]"), ledger=ledger)
    [account] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts
    assert account.transactions[0].posted_on == date(1900, 1, 1)
    assert account.balance_as_of is not None
    assert account.balance_as_of.year == 2999


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
def test_csv_dates_outside_the_plausible_range_are_refused(text: str) -> None:
    data = f"Date,Description,Amount\n{text},Coffee,-1\n".encode()
    error = refused(csv_parse(data, SIMPLE), "invalid_date")
    assert error.details["location"] == "line 2"
