"""Real-world OFX framing: unclosed aggregates, headers, encodings, line ends, junk at the end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dashtam.domain.accounts.entities import AccountType
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, bank_ofx, fixture, parsed, refused, stmttrn

EST = timezone(timedelta(hours=-5))


def test_balances_after_an_unclosed_transaction_list_are_the_statements() -> None:
    # BANKTRANLIST, every STMTTRN, LEDGERBAL and AVAILBAL are left open, as some banks do.
    [account] = parsed(
        OfxParser().parse(fixture("sgml_unclosed_aggregates.ofx"), limits=LIMITS)
    ).accounts

    assert account.provider_account_id == "5550012345"
    assert account.account_type is AccountType.CHECKING
    assert account.balance == Decimal("4102.77")
    assert account.balance_as_of == datetime(2024, 1, 31, 23, 59, 59, tzinfo=EST)
    assert account.available_balance == Decimal("3990.00")
    assert account.available_balance_as_of == datetime(2024, 2, 1, tzinfo=UTC)
    assert account.statement_end == datetime(2024, 1, 31, 23, 59, 59, tzinfo=EST)
    rows = [
        (t.provider_transaction_id, t.amount, t.posted_on, t.payee, t.memo)
        for t in account.transactions
    ]
    assert rows == [
        ("3001", Decimal("-150.00"), date(2024, 1, 3), "CHECK 2217", None),
        ("3002", Decimal("1850.25"), date(2024, 1, 15), "PAYROLL CAFÉ MOLIÈRE", "Direct depôt"),
        # 23:59:59 EST is already the next day in UTC: the bank's day is kept.
        ("3003", Decimal("-23.40"), date(2024, 1, 31), "CORNER MARKET & DELI", None),
    ]
    assert [(t.check_number, t.reference) for t in account.transactions] == [
        ("2217", None),
        (None, "PAY-0115"),
        (None, None),
    ]


def test_quickbooks_web_connect_with_bom_blank_lines_cr_line_ends_and_trailing_junk() -> None:
    data = fixture("webconnect.qbo")
    assert data.startswith(b"\xef\xbb\xbf\r\r")
    assert b"\r\n" not in data
    assert data.rstrip(b"garbage after the end \x1a").endswith(b"\x00")

    [account] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts

    assert account.account_type is AccountType.CREDIT_CARD
    assert account.provider_account_id == "4000123412341234"
    assert account.balance == Decimal("-1520.33")
    assert [(t.provider_transaction_id, t.amount, t.payee) for t in account.transactions] == [
        ("2024020524692160000000001", Decimal("-64.10"), "SHELL OIL 57444"),
        ("2024022024692160000000002", Decimal("500.00"), "PAYMENT - THANK YOU"),
    ]


def test_latin1_statement_on_one_line_with_decimal_commas() -> None:
    [account] = parsed(OfxParser().parse(fixture("latin1_one_line.qfx"), limits=LIMITS)).accounts

    assert (account.currency, account.account_type) == ("EUR", AccountType.SAVINGS)
    assert account.provider_account_id == "00012345678"
    assert account.balance == Decimal("2001.06")
    assert [(t.amount, t.payee, t.memo) for t in account.transactions] == [
        (Decimal("-12.50"), "BOULANGERIE DU CHÂTEAU", "Carte 04/03 à Orléans"),
        (Decimal("1234.56"), "VIR SEPA REÇU", None),
    ]


def test_bare_sgml_without_any_header() -> None:
    data = fixture("no_header.ofx")
    assert data.lstrip().startswith(b"<OFX>")
    [account] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts
    assert (account.provider_account_id, account.currency) == ("88776655", "CAD")
    assert account.balance == Decimal("9876.54")
    assert [t.amount for t in account.transactions] == [Decimal("3.17")]


SGML_HEADER = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nENCODING:{enc}\r\nCHARSET:{cs}\r\n\r\n"
)


def _sgml(name: bytes, *, enc: str = "USASCII", cs: str = "1252") -> bytes:
    return SGML_HEADER.format(enc=enc, cs=cs).encode() + bank_ofx(
        stmttrn(name="NAMEPLACEHOLDER")
    ).split(b"?>\n", 2)[2].replace(b"NAMEPLACEHOLDER", name)


@pytest.mark.parametrize(
    ("data", "payee"),
    [
        (_sgml("Caf\u00e9 \u20ac".encode("cp1252")), "Café €"),
        (_sgml("Caf\u00e9".encode("latin-1"), cs="ISO-8859-1"), "Café"),
        (_sgml("Caf\u00e9 \u20ac".encode(), enc="UTF-8", cs="NONE"), "Café €"),
        # Declared ASCII, written in UTF-8: the valid UTF-8 sequence wins over cp1252.
        (_sgml("Caf\u00e9".encode(), cs="NONE"), "Café"),
        # Declared ASCII, written in cp1252.
        (_sgml("Caf\u00e9".encode("cp1252"), cs="NONE"), "Café"),
        # Declared UTF-8, with a byte invalid in it: cp1252 takes over for that value.
        (_sgml(b"Caf\xe9", enc="UTF-8", cs="NONE"), "Café"),
        (bank_ofx(stmttrn(name="Caf\u00e9 \u20ac")), "Café €"),
        (
            bank_ofx(stmttrn(name="Caf\u00e9"))
            .replace(b"UTF-8", b"ISO-8859-1")
            .replace("Caf\u00e9".encode(), b"Caf\xe9"),
            "Café",
        ),
    ],
    ids=[
        "cp1252",
        "latin1",
        "utf8",
        "ascii-but-utf8",
        "ascii-but-cp1252",
        "bad-utf8",
        "xml",
        "xml-latin1",
    ],
)
def test_text_is_decoded_with_the_declared_charset(data: bytes, payee: str) -> None:
    [transaction] = parsed(OfxParser().parse(data, limits=LIMITS)).accounts[0].transactions
    assert transaction.payee == payee


def test_header_keys_in_any_order_and_crlf_cr_or_lf_line_ends_read_alike() -> None:
    base = fixture("checking_ofx1_sgml.ofx")
    header, _, body = base.partition(b"\r\n\r\n")
    shuffled = b"\r\n".join(reversed(header.split(b"\r\n"))) + b"\r\n\r\n" + body
    variants = [base, shuffled, base.replace(b"\r\n", b"\n"), base.replace(b"\r\n", b"\r")]
    statements = [parsed(OfxParser().parse(data, limits=LIMITS)) for data in variants]
    assert statements[0].transaction_count() == 4
    assert all(statement == statements[0] for statement in statements)


def test_everything_on_one_line_reads_like_the_layout_with_line_breaks() -> None:
    base = fixture("checking_ofx1_sgml.ofx")
    header, _, body = base.partition(b"\r\n\r\n")
    one_line = header + b"\r\n\r\n" + body.replace(b"\r\n", b"")
    assert b"\n" not in one_line.partition(b"<OFX>")[2]
    assert parsed(OfxParser().parse(one_line, limits=LIMITS)) == parsed(
        OfxParser().parse(base, limits=LIMITS)
    )


@pytest.mark.parametrize(
    "tail", [b"\x00" * 64, b"\r\n\r\n", b"\x1a", b"<html>a proxy's error page</html>", b"</OFX>"]
)
def test_anything_after_the_closing_tag_is_ignored(tail: bytes) -> None:
    base = fixture("checking_ofx1_sgml.ofx")
    assert parsed(OfxParser().parse(base + tail, limits=LIMITS)) == parsed(
        OfxParser().parse(base, limits=LIMITS)
    )


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_a_truncated_download_is_refused_before_any_part(cut: float) -> None:
    data = fixture("checking_ofx1_sgml.ofx")
    truncated = data[: int(len(data) * cut)]
    parts = list(OfxParser().stream(truncated, limits=LIMITS, batch_size=1))
    assert len(parts) == 1  # the refusal, and nothing read before the cut
    error = refused(OfxParser().parse(truncated, limits=LIMITS), "invalid_ofx")
    assert "</OFX>" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AT&amp;T &#233;t&#xE9; &lt;b&gt;", "AT&T été <b>"),
        ("AT&T", "AT&T"),  # a bare ampersand is text, not a broken reference
        ("P&G&copy", "P&G&copy"),
        ("&#0;X", "X"),  # a NUL by reference is cleaned like a NUL byte
    ],
)
def test_character_references_in_text(text: str, expected: str) -> None:
    [transaction] = (
        parsed(OfxParser().parse(bank_ofx(stmttrn(name=text)), limits=LIMITS))
        .accounts[0]
        .transactions
    )
    assert transaction.payee == expected
