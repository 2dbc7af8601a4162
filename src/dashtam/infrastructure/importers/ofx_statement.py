"""One bank or credit card statement (STMTRS, CCSTMTRS) as its elements are read."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from dashtam.core.result import Failure, Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.statement import ParsedAccount, ParsedTransaction
from dashtam.domain.money import parse_amount, parse_currency
from dashtam.infrastructure.importers.ofx_fields import (
    Identities,
    PostingDates,
    amount,
    digest,
    free_text,
    timestamp,
)
from dashtam.infrastructure.importers.safety import check_identifier, reject

_ACCOUNT_TYPES = {
    "CHECKING": AccountType.CHECKING,
    "SAVINGS": AccountType.SAVINGS,
    "MONEYMRKT": AccountType.SAVINGS,
    "CD": AccountType.SAVINGS,
    "CREDITLINE": AccountType.LOAN,
}
_SOURCES = {"STMTRS": "BANKACCTFROM", "CCSTMTRS": "CCACCTFROM"}


class CashTransactions:
    """The STMTTRN aggregates of one statement (bank, card, or an investment account's cash
    side), each under a stable id: see ``Identities``."""

    __slots__ = ("_count", "_dates", "_ids", "_where", "batch")

    def __init__(self, where: str) -> None:
        self.batch: list[ParsedTransaction] = []
        self._where = where
        self._ids = Identities()
        self._dates = PostingDates()
        self._count = 0

    def add(self, fields: dict[str, str]) -> None:
        self._count += 1
        read = bank_transaction(fields, self._where, self._count, self._dates)
        kept = self._ids.keep(*read)
        if kept is not None:
            self.batch.append(kept)

    def take(self) -> list[ParsedTransaction]:
        batch, self.batch = self.batch, []
        return batch


class Statement:
    """Transactions batch up here; the account is described once the file has named it."""

    __slots__ = ("_account", "_cash", "_fields", "_tag", "where")

    def __init__(self, tag: str, number: int, fields: dict[str, str]) -> None:
        self.where = f"{tag} #{number}"
        self._cash = CashTransactions(self.where)
        self._tag = tag
        # The statement's own leaves, filled in by the reader as the file goes by.
        self._fields = fields
        self._account: ParsedAccount | None = None

    def add(self, fields: dict[str, str]) -> None:
        self._cash.add(fields)

    def pending(self) -> int:
        return len(self._cash.batch)

    def take(self) -> list[ParsedTransaction]:
        return self._cash.take()

    def account(self) -> ParsedAccount | None:
        """The account, or None while its currency or number is still ahead in the file."""
        source = _SOURCES[self._tag]
        if self._account is None and {"CURDEF", f"{source}/ACCTID"} <= self._fields.keys():
            self._account = self._describe()
        return self._account

    def closing(self, server_time: str | None) -> ParsedAccount:
        """The account with what follows the transactions: balances, the statement's end."""
        account = self._account or self._describe()
        balance, balance_as_of = self._balance("LEDGERBAL")
        available, available_as_of = self._balance("AVAILBAL")
        return replace(
            account,
            balance=balance,
            balance_as_of=balance_as_of,
            available_balance=available,
            available_balance_as_of=available_as_of,
            statement_end=self._end(server_time),
        )

    def _describe(self) -> ParsedAccount:
        source = _SOURCES[self._tag]
        currency, account_id = account_identity(self._fields, self.where, source)
        if self._tag == "CCSTMTRS":
            account_type = AccountType.CREDIT_CARD
        else:
            kind = self._fields.get(f"{source}/ACCTTYPE", "").upper()
            account_type = _ACCOUNT_TYPES.get(kind, AccountType.OTHER)
        return ParsedAccount(
            provider_account_id=account_id, account_type=account_type, currency=currency
        )

    def _balance(self, tag: str) -> tuple[Decimal | None, datetime | None]:
        text = self._fields.get(f"{tag}/BALAMT")
        if not text:
            return None, None
        value = amount(text, f"{self.where} {tag}/BALAMT")
        as_of = self._fields.get(f"{tag}/DTASOF")
        return value, timestamp(as_of, f"{self.where} {tag}/DTASOF") if as_of else None

    def _end(self, server_time: str | None) -> datetime | None:
        for key in ("BANKTRANLIST/DTEND", "LEDGERBAL/DTASOF"):
            text = self._fields.get(key)
            if text:
                return timestamp(text, f"{self.where} {key}")
        return timestamp(server_time, "SONRS DTSERVER") if server_time else None


def account_identity(fields: dict[str, str], where: str, source: str) -> tuple[str, str]:
    """The statement's currency (``CURDEF``) and account number (``<source>/ACCTID``)."""
    currency_text = fields.get("CURDEF")
    if not currency_text:
        reject("CURDEF (currency) is missing", location=where)
    match parse_currency(currency_text or ""):
        case Failure(error):
            reject(error.message, location=f"{where} CURDEF")
            raise AssertionError("unreachable")
        case Success(currency):
            pass
    account_id = fields.get(f"{source}/ACCTID")
    if not account_id:
        reject(f"{source}/ACCTID is missing", location=where)
    check_identifier(account_id or "", location=f"{where} {source}/ACCTID", field="ACCTID")
    return currency, str(account_id)


def bank_transaction(
    fields: dict[str, str], where: str, number: int, dates: PostingDates
) -> tuple[ParsedTransaction, bytes]:
    """The ``number``-th STMTTRN of ``where`` (its id still the bank's FITID, or empty) and a
    digest of its content."""

    def location() -> str:  # named only when something is refused: most rows never need it
        return f"{where} STMTTRN #{number}"

    fitid = fields.get("FITID") or ""
    if not fitid.isprintable():  # only then can it hold a control character
        check_identifier(fitid, location=f"{location()} FITID", field="FITID")
    amount_text = fields.get("TRNAMT")
    if not amount_text:
        reject("TRNAMT (amount) is missing", location=location())
    posted_text = fields.get("DTPOSTED")
    if not posted_text:
        reject("DTPOSTED (posting date) is missing", location=location())
    match parse_amount(amount_text or ""):
        case Success(value):
            pass
        case Failure(_):
            value = amount(amount_text or "", f"{location()} TRNAMT")  # refuses, saying where
    posted_on = dates.read(posted_text or "", lambda: f"{location()} DTPOSTED")
    payee = free_text(fields.get("NAME") or fields.get("PAYEE/NAME"), 255)
    memo = free_text(fields.get("MEMO"), 500)
    kind = free_text(fields.get("TRNTYPE"), 40)
    check_number = free_text(fields.get("CHECKNUM"), 32)
    reference = free_text(fields.get("REFNUM"), 255)
    content = digest(posted_on, value.normalize(), kind, payee, memo, check_number, reference)
    transaction = ParsedTransaction(
        provider_transaction_id=fitid,
        amount=value,
        posted_on=posted_on,
        description=(payee or memo or (kind.title() if kind else "Transaction"))[:500],
        payee=payee,
        memo=memo,
        check_number=check_number,
        reference=reference,
    )
    return transaction, content
