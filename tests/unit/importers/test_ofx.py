"""OFX 1.x SGML, OFX 2.x XML and QFX: exact values from the shipped files, and every refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.statement import ImportLimits
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, bank_ofx, fixture, parsed, refused, stmttrn

EST = timezone(timedelta(hours=-5))

# (fitid, amount, posted_on, description, payee, memo) of checking_ofx1_sgml.ofx and savings.qfx
SGML_TRANSACTIONS = [
    (
        "202611020",
        Decimal("-45.67"),
        date(2026, 11, 2),
        "WHOLEFDS MKT #10234",
        "WHOLEFDS MKT #10234",
        "POS PURCHASE",
    ),
    (
        "202611050",
        Decimal("2500.00"),
        date(2026, 11, 5),
        "ACME CORP PAYROLL",
        "ACME CORP PAYROLL",
        None,
    ),
    ("202611100", Decimal("-1200.00"), date(2026, 11, 10), "CHECK 1042", "CHECK 1042", None),
    (
        "202611150",
        Decimal("-0.99"),
        date(2026, 11, 15),
        '=HYPERLINK("http://x")',
        '=HYPERLINK("http://x")',
        "App store & more",
    ),
]


def _rows(statement_account: object) -> list[tuple[object, ...]]:
    return [
        (t.provider_transaction_id, t.amount, t.posted_on, t.description, t.payee, t.memo)
        for t in statement_account.transactions  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(
    ("name", "account_id", "account_type"),
    [
        ("checking_ofx1_sgml.ofx", "000012345678", AccountType.CHECKING),
        ("savings.qfx", "987654321", AccountType.SAVINGS),
    ],
)
def test_sgml_statements_parse_exactly(
    name: str, account_id: str, account_type: AccountType
) -> None:
    statement = parsed(OfxParser().parse(fixture(name), limits=LIMITS))

    assert statement.format == "ofx"
    assert len(statement.accounts) == 1
    account = statement.accounts[0]
    assert account.provider_account_id == account_id
    assert account.account_type is account_type
    assert account.currency == "USD"
    assert account.balance == Decimal("3253.34")
    assert str(account.balance) == "3253.34"
    assert account.balance_as_of == datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    assert account.balance_as_of.utcoffset() == timedelta(hours=-5)
    assert _rows(account) == SGML_TRANSACTIONS
    assert all(isinstance(t.amount, Decimal) for t in account.transactions)
    assert all(t.status is TransactionStatus.POSTED for t in account.transactions)
    assert statement.transaction_count() == 4


def test_sgml_character_references_are_decoded_once() -> None:
    statement = parsed(OfxParser().parse(fixture("checking_ofx1_sgml.ofx"), limits=LIMITS))
    memo = statement.accounts[0].transactions[3].memo
    assert memo == "App store & more"
    assert "&amp;" not in (memo or "")


def test_xml_credit_card_statement_parses_exactly() -> None:
    statement = parsed(OfxParser().parse(fixture("creditcard_ofx2.ofx"), limits=LIMITS))

    [account] = statement.accounts
    assert account.provider_account_id == "4111111111111111"
    assert account.account_type is AccountType.CREDIT_CARD
    assert account.currency == "EUR"
    assert account.balance == Decimal("-746.84")
    assert account.balance_as_of == datetime(2026, 11, 21, tzinfo=UTC)
    assert _rows(account) == [
        (
            "CC-0001",
            Decimal("-12.34"),
            date(2026, 11, 3),
            "CAFE DE FLORE",
            "CAFE DE FLORE",
            "Paris",
        ),
        # PAYEE/NAME when there is no NAME; a thousands separator in TRNAMT
        ("CC-0002", Decimal("-1234.50"), date(2026, 11, 4), "AIR FRANCE", "AIR FRANCE", None),
        (
            "CC-0003",
            Decimal("500.00"),
            date(2026, 11, 15),
            "PAYMENT THANK YOU",
            "PAYMENT THANK YOU",
            None,
        ),
    ]


@pytest.mark.parametrize(
    ("text", "posted_on"),
    [
        ("20261102", date(2026, 11, 2)),
        ("202611021530", date(2026, 11, 2)),
        ("20261102153045", date(2026, 11, 2)),
        ("20261102153045.123", date(2026, 11, 2)),
        ("20261102235959[-5:EST]", date(2026, 11, 2)),  # the bank's local day, not UTC's
        ("20261102000000[+5.5:IST]", date(2026, 11, 2)),
        ("20261102120000[0]", date(2026, 11, 2)),
        ("20261102120000.000[-8:PST]", date(2026, 11, 2)),
    ],
)
def test_posting_dates_with_and_without_time_and_offset(text: str, posted_on: date) -> None:
    data = bank_ofx(stmttrn(posted=text))
    [transaction] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].transactions
    assert transaction.posted_on == posted_on


@pytest.mark.parametrize(
    ("text", "as_of"),
    [
        ("20261120", datetime(2026, 11, 20, tzinfo=UTC)),
        ("20261120120000", datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("20261120120000[-5:EST]", datetime(2026, 11, 20, 17, tzinfo=UTC)),
        ("20261120120000[+5.5:IST]", datetime(2026, 11, 20, 6, 30, tzinfo=UTC)),
        ("20261120120000.500[+1]", datetime(2026, 11, 20, 11, tzinfo=UTC)),
    ],
)
def test_balance_times_honour_the_offset(text: str, as_of: datetime) -> None:
    ledger = f"<LEDGERBAL><BALAMT>10.5</BALAMT><DTASOF>{text}</DTASOF></LEDGERBAL>"
    [account] = parsed(
        OfxParser().parse(bank_ofx(stmttrn(), ledger=ledger), limits=LIMITS)
    ).accounts
    assert account.balance == Decimal("10.5")
    assert account.balance_as_of == as_of
    assert account.balance_as_of.tzinfo is not None


def test_description_falls_back_from_name_to_payee_to_memo_to_type() -> None:
    data = bank_ofx(
        stmttrn(fitid="A", name="NAMED"),
        stmttrn(fitid="B", name=None, extra="<PAYEE><NAME>PAYEE CO</NAME></PAYEE>"),
        stmttrn(fitid="C", name=None, memo="only a memo"),
        stmttrn(fitid="D", name=None, kind="ATM"),
    )
    transactions = parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].transactions
    assert [(t.description, t.payee, t.memo) for t in transactions] == [
        ("NAMED", "NAMED", None),
        ("PAYEE CO", "PAYEE CO", None),
        ("only a memo", None, "only a memo"),
        ("Atm", None, None),
    ]


@pytest.mark.parametrize(
    ("data", "location", "element"),
    [
        (bank_ofx(stmttrn(), stmttrn(fitid="2", amount=None)), "STMTRS #1 STMTTRN #2", "TRNAMT"),
        (bank_ofx(stmttrn(posted=None)), "STMTRS #1 STMTTRN #1", "DTPOSTED"),
        (bank_ofx(stmttrn(), currency=None), "STMTRS #1", "CURDEF"),
        (bank_ofx(stmttrn(), account_id=None), "STMTRS #1", "ACCTID"),
    ],
    ids=["trnamt", "dtposted", "curdef", "acctid"],
)
def test_missing_required_elements_are_refused_where_they_are_missing(
    data: bytes, location: str, element: str
) -> None:
    error = refused(OfxParser().parse(data, limits=LIMITS), "invalid_file")
    assert error.details["location"] == location
    assert element in error.message


@pytest.mark.parametrize(
    ("data", "code", "location"),
    [
        (bank_ofx(stmttrn(), stmttrn(fitid="2", amount="1e3")), "invalid_amount", "TRNAMT"),
        (bank_ofx(stmttrn(posted="2026-11-02")), "invalid_date", "DTPOSTED"),
        (bank_ofx(stmttrn(posted="20261345")), "invalid_date", "DTPOSTED"),
        (bank_ofx(stmttrn(), currency="XYZ"), "invalid_file", "CURDEF"),
        (
            bank_ofx(stmttrn(), ledger="<LEDGERBAL><BALAMT>x</BALAMT></LEDGERBAL>"),
            "invalid_amount",
            "LEDGERBAL/BALAMT",
        ),
    ],
)
def test_bad_values_are_refused_with_the_element(data: bytes, code: str, location: str) -> None:
    error = refused(OfxParser().parse(data, limits=LIMITS), code)
    assert error.details["location"].endswith(location)


def test_malformed_amount_fixture_names_the_fourth_transaction() -> None:
    error = refused(
        OfxParser().parse(fixture("malformed_amount.ofx"), limits=LIMITS), "invalid_amount"
    )
    assert error.details["location"] == "STMTRS #1 STMTTRN #4 TRNAMT"
    assert "abc" in error.message


def test_account_types_map_and_unknown_is_other() -> None:
    def kind(acct_type: str) -> AccountType:
        data = bank_ofx(stmttrn(), account_type=acct_type)
        return parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].account_type

    assert kind("MONEYMRKT") is AccountType.SAVINGS
    assert kind("CREDITLINE") is AccountType.LOAN
    assert kind("WEIRD") is AccountType.OTHER


def test_too_many_transactions_is_refused() -> None:
    data = bank_ofx(*(stmttrn(fitid=str(i)) for i in range(4)))
    assert len(parsed(OfxParser().parse(data, limits=ImportLimits(max_transactions=4))).accounts)
    error = refused(
        OfxParser().parse(data, limits=ImportLimits(max_transactions=3)), "too_many_rows"
    )
    assert "3" in error.message


@pytest.mark.parametrize("data", [b"", b"   \n\r\n", b"\n"])
def test_empty_file_is_refused(data: bytes) -> None:
    refused(OfxParser().parse(data, limits=LIMITS), "empty_file")


@pytest.mark.parametrize(
    "data",
    [b"this is not OFX at all", b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BROKEN", b"<OFX></OFX>"],
)
def test_unreadable_files_are_refused(data: bytes) -> None:
    result = OfxParser().parse(data, limits=LIMITS)
    refused(result, "invalid_ofx")


def test_a_file_without_statements_is_refused() -> None:
    data = bank_ofx(stmttrn()).replace(b"STMTRS>", b"STMTXX>")
    assert b"STMTRS" not in data
    refused(OfxParser().parse(data, limits=LIMITS), "invalid_ofx")
