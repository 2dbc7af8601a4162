"""Helpers for the parser tests: the shipped sample files and small OFX builders."""

from __future__ import annotations

from pathlib import Path

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.statement import ImportLimits, ParsedStatement

FIXTURES = Path(__file__).parents[2] / "fixtures" / "imports"
LIMITS = ImportLimits()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(result: Result[ParsedStatement, ValidationError]) -> ParsedStatement:
    assert isinstance(result, Success), result
    return result.value


def refused(result: Result[ParsedStatement, ValidationError], code: str) -> ValidationError:
    assert isinstance(result, Failure), result
    assert result.error.code == code, result.error
    return result.error


OFX2_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
)


def stmttrn(
    *,
    fitid: str | None = "T1",
    amount: str | None = "-1.00",
    posted: str | None = "20261102",
    name: str | None = "SHOP",
    memo: str | None = None,
    kind: str = "DEBIT",
    extra: str = "",
) -> str:
    parts = [f"<TRNTYPE>{kind}</TRNTYPE>"]
    if posted is not None:
        parts.append(f"<DTPOSTED>{posted}</DTPOSTED>")
    if amount is not None:
        parts.append(f"<TRNAMT>{amount}</TRNAMT>")
    if fitid is not None:
        parts.append(f"<FITID>{fitid}</FITID>")
    if name is not None:
        parts.append(f"<NAME>{name}</NAME>")
    if memo is not None:
        parts.append(f"<MEMO>{memo}</MEMO>")
    return "<STMTTRN>" + "".join(parts) + extra + "</STMTTRN>"


def bank_ofx(
    *transactions: str,
    currency: str | None = "USD",
    account_id: str | None = "12345678",
    account_type: str = "CHECKING",
    ledger: str = "",
) -> bytes:
    """An OFX 2.x bank statement with these STMTTRN aggregates."""
    curdef = f"<CURDEF>{currency}</CURDEF>" if currency is not None else ""
    acctid = f"<ACCTID>{account_id}</ACCTID>" if account_id is not None else ""
    body = (
        "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>"
        "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        f"<STMTRS>{curdef}<BANKACCTFROM><BANKID>1</BANKID>{acctid}"
        f"<ACCTTYPE>{account_type}</ACCTTYPE></BANKACCTFROM>"
        "<BANKTRANLIST><DTSTART>20261101</DTSTART><DTEND>20261130</DTEND>"
        + "".join(transactions)
        + f"</BANKTRANLIST>{ledger}</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    return (OFX2_HEADER + body).encode()
