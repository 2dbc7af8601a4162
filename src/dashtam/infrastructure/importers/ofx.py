"""OFX 1.x (SGML), OFX 2.x (XML) and QFX statements, read with ofxtools' lenient tree parser.

We walk the element tree ourselves instead of ofxtools' strict model conversion: real bank
exports routinely bend the specification (missing optional aggregates, thousands separators,
odd dates), and one bent field must not make a whole statement unreadable.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from ofxtools.header import OFXHeaderError
from ofxtools.Parser import OFXTree, ParseError

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    ParsedTransaction,
    StatementPart,
)
from dashtam.domain.money import parse_amount, parse_currency
from dashtam.infrastructure.importers.safety import (
    FileRejectedError,
    check_date,
    check_identifier,
    check_size,
    clean_text,
    refuse_markup_declarations,
    reject,
)

_ACCOUNT_TYPES = {
    "CHECKING": AccountType.CHECKING,
    "SAVINGS": AccountType.SAVINGS,
    "MONEYMRKT": AccountType.SAVINGS,
    "CD": AccountType.SAVINGS,
    "CREDITLINE": AccountType.LOAN,
}
_OFX_END = re.compile(rb"</\s*OFX\s*>", re.IGNORECASE)
_STATEMENTS = (("STMTRS", "BANKACCTFROM"), ("CCSTMTRS", "CCACCTFROM"))
_DATE = re.compile(
    r"^(?P<date>\d{8})(?P<time>\d{4}(\d{2})?)?(\.\d{1,3})?"
    r"(\[(?P<offset>[+-]?\d{1,2}(\.\d+)?)(:[A-Za-z]+)?\])?$"
)


class OfxParser:
    """The ``StatementParser`` for ``ofx-file`` connections."""

    format = "ofx"

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]:
        try:
            return Success(self._parse(data, limits))
        except FileRejectedError as exc:
            return Failure(exc.error)

    def stream(
        self, data: bytes, *, limits: ImportLimits, batch_size: int
    ) -> Iterator[Result[StatementPart, ValidationError]]:
        """OFX is one document (ofxtools builds its whole tree), so it is parsed and validated
        at once, then handed out in batches; the 20 MB size limit bounds its memory."""
        parsed = self.parse(data, limits=limits)
        if isinstance(parsed, Failure):
            yield parsed
            return
        total = parsed.value.transaction_count()
        done = 0
        for account in parsed.value.accounts:
            items = account.transactions
            for start in range(0, max(len(items), 1), batch_size):
                batch = items[start : start + batch_size]
                done += len(batch)
                yield Success(
                    StatementPart(account=account, transactions=batch, done=done, total=total)
                )

    def _parse(self, data: bytes, limits: ImportLimits) -> ParsedStatement:
        check_size(data, limits)
        refuse_markup_declarations(data)
        # ofxtools closes whatever is open at end of input: without this a truncated download
        # would import the transactions before the cut (the last one possibly half-read).
        if _OFX_END.search(data) is None:
            reject("the file ends before </OFX> (is it complete?)", code="invalid_ofx")
        tree = OFXTree()
        try:
            tree.parse(io.BytesIO(data.lstrip(b"\xef\xbb\xbf")))
        except (OFXHeaderError, ParseError, ValueError, IndexError, KeyError) as exc:
            reject(f"not a readable OFX file ({_first_line(exc)})", code="invalid_ofx")
        root = tree.getroot()
        if root is None:
            reject("not a readable OFX file (no OFX body)", code="invalid_ofx")
            raise AssertionError("unreachable")
        statement = ParsedStatement(format=self.format)
        count = 0
        for rs_tag, account_tag in _STATEMENTS:
            for index, rs in enumerate(root.iter(rs_tag), start=1):
                account = _account(rs, rs_tag, account_tag, index)
                for position, element in enumerate(rs.iter("STMTTRN"), start=1):
                    count += 1
                    if count > limits.max_transactions:
                        reject(
                            f"more than {limits.max_transactions} transactions",
                            code="too_many_rows",
                        )
                    account.transactions.append(
                        _transaction(element, f"{rs_tag} #{index}", position)
                    )
                statement.accounts.append(account)
        if not statement.accounts:
            reject("no bank or credit card statement in the file", code="invalid_ofx")
        return statement


def _account(rs: ET.Element, rs_tag: str, account_tag: str, index: int) -> ParsedAccount:
    where = f"{rs_tag} #{index}"
    currency_text = _text(rs, "CURDEF")
    if currency_text is None:
        reject("CURDEF (currency) is missing", location=where)
    match parse_currency(currency_text or ""):
        case Failure(error):
            reject(error.message, location=f"{where} CURDEF")
        case Success(currency):
            pass
    source = rs.find(account_tag)
    account_id = _text(source, "ACCTID") if source is not None else None
    if not account_id:
        reject(f"{account_tag}/ACCTID is missing", location=where)
    check_identifier(account_id or "", location=f"{where} {account_tag}/ACCTID", field="ACCTID")
    if rs_tag == "CCSTMTRS":
        account_type = AccountType.CREDIT_CARD
    else:
        account_type = _ACCOUNT_TYPES.get(
            (_text(source, "ACCTTYPE") or "").upper(), AccountType.OTHER
        )
    balance, as_of = None, None
    ledger = rs.find("LEDGERBAL")
    if ledger is not None and _text(ledger, "BALAMT"):
        balance = _amount(_text(ledger, "BALAMT") or "", f"{where} LEDGERBAL/BALAMT")
        as_of_text = _text(ledger, "DTASOF")
        as_of = _datetime(as_of_text, f"{where} LEDGERBAL/DTASOF") if as_of_text else None
    return ParsedAccount(
        provider_account_id=str(account_id),
        account_type=account_type,
        currency=currency,
        balance=balance,
        balance_as_of=as_of,
    )


def _transaction(element: ET.Element, where: str, position: int) -> ParsedTransaction:
    location = f"{where} STMTTRN #{position}"
    fitid = _text(element, "FITID")
    if not fitid:
        reject("FITID (transaction id) is missing", location=location)
    check_identifier(fitid or "", location=f"{location} FITID", field="FITID")
    amount_text = _text(element, "TRNAMT")
    if amount_text is None:
        reject("TRNAMT (amount) is missing", location=location)
    posted_text = _text(element, "DTPOSTED")
    if posted_text is None:
        reject("DTPOSTED (posting date) is missing", location=location)
    payee = _free_text(element, "NAME") or _free_text(element.find("PAYEE"), "NAME")
    memo = _free_text(element, "MEMO")
    kind = _free_text(element, "TRNTYPE")
    description = payee or memo or (kind.title() if kind else "Transaction")
    return ParsedTransaction(
        provider_transaction_id=str(fitid)[:255],
        amount=_amount(amount_text or "", f"{location} TRNAMT"),
        posted_on=_datetime(posted_text or "", f"{location} DTPOSTED").date(),
        description=description[:500],
        payee=payee[:255] if payee else None,
        memo=memo[:500] if memo else None,
    )


def _text(parent: ET.Element | None, tag: str) -> str | None:
    if parent is None:
        return None
    found = parent.find(tag)
    if found is None or found.text is None:
        return None
    # SGML bodies keep their character references (``&amp;``); XML ones arrive decoded.
    value = html.unescape(found.text).strip()
    return value or None


def _free_text(parent: ET.Element | None, tag: str) -> str | None:
    """Text for people to read: control characters dropped (see docs/importing.md)."""
    value = _text(parent, tag)
    return (clean_text(value).strip() or None) if value else None


def _amount(text: str, location: str) -> Decimal:
    match parse_amount(text):
        case Success(value):
            return value
        case Failure(error):
            reject(error.message, location=location, code="invalid_amount")
    raise AssertionError("unreachable")


def _datetime(text: str, location: str) -> datetime:
    """OFX dates: ``YYYYMMDD[HHMM[SS[.XXX]]][[+-]offset[:TZ]]``; no offset means GMT."""
    match = _DATE.match(text.strip())
    if match is None:
        reject(f"{text!r} is not an OFX date", location=location, code="invalid_date")
        raise AssertionError("unreachable")
    digits = match.group("date") + (match.group("time") or "")
    digits = digits.ljust(14, "0")
    try:
        naive = datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        reject(f"{text!r} is not a valid date", location=location, code="invalid_date")
        raise AssertionError("unreachable") from None
    offset = match.group("offset")
    try:
        zone = timezone(timedelta(hours=float(offset))) if offset else UTC
    except ValueError:  # beyond +-24 hours
        reject(
            f"{text!r} has an impossible time-zone offset", location=location, code="invalid_date"
        )
        raise AssertionError("unreachable") from None
    # Bounded here, the local date stays representable once stored in UTC (at most a day away).
    check_date(naive.date(), location=location, text=text)
    return naive.replace(tzinfo=zone)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
