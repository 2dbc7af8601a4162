"""What a parser makes of a bank export file, before anything is stored."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import InvestmentData, ParsedSecurity
from dashtam.domain.transactions.entities import TransactionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedTransaction:
    provider_transaction_id: str
    amount: Decimal
    posted_on: date
    description: str
    payee: str | None = None
    memo: str | None = None
    status: TransactionStatus = TransactionStatus.POSTED
    check_number: str | None = None
    reference: str | None = None


@dataclass(slots=True, kw_only=True)
class ParsedAccount:
    provider_account_id: str
    account_type: AccountType
    currency: str
    name: str | None = None
    balance: Decimal | None = None
    balance_as_of: datetime | None = None
    transactions: list[ParsedTransaction] = field(default_factory=list)
    available_balance: Decimal | None = None
    available_balance_as_of: datetime | None = None
    # How recent the statement is, so an older file imported later can be told apart from a
    # newer one whose corrections must win.
    statement_end: datetime | None = None


@dataclass(slots=True, kw_only=True)
class ParsedStatement:
    format: str
    accounts: list[ParsedAccount] = field(default_factory=list)

    def transaction_count(self) -> int:
        return sum(len(account.transactions) for account in self.accounts)

    def all_transactions(self) -> Iterator[tuple[ParsedAccount, ParsedTransaction]]:
        for account in self.accounts:
            for transaction in account.transactions:
                yield account, transaction


def import_error(
    message: str, *, location: str | None = None, code: str = "invalid_file"
) -> ValidationError:
    """A file problem, saying where (``line 12``, ``STMTTRN #3``) when known."""
    details = {"location": location} if location else {}
    text = f"{location}: {message}" if location else message
    return ValidationError(text, code=code, details=details)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_transactions: int = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvOptions:
    """How to read a CSV export: a preset name, or a column mapping (see docs/importing.md)."""

    preset: str | None = None
    mapping: dict[str, str] | None = None
    # CSV files rarely name their account: this names it (several accounts on one connection).
    account: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementPart:
    """A batch of one account's transactions, read from the file in order.

    ``account`` describes the account (its ``transactions`` list is unused); its balance may
    be known only in the account's last part. ``done``/``total`` measure progress in units the
    parser chooses (lines, transactions).
    """

    account: ParsedAccount
    transactions: Sequence[ParsedTransaction]
    done: int
    total: int
    # What the file holds but the parser does not import, e.g. {"investment statements": 1}.
    skipped: Mapping[str, int] = field(default_factory=dict)
    # An investment account's trades, positions and cash side (None for bank and card parts).
    investment: InvestmentData | None = None
    # The securities the file describes (its SECLIST), with the first investment part.
    securities: Sequence[ParsedSecurity] = ()


class StatementParser(Protocol):
    """Port: turns file bytes into a statement; sync and CPU-bound (callers use a thread)."""

    @property
    def format(self) -> str: ...

    def stream(
        self, data: bytes, *, limits: ImportLimits, batch_size: int
    ) -> Iterator[Result[StatementPart, ValidationError]]:
        """Parts in file order; a ``Failure`` ends the stream (nothing after it is valid).

        Memory stays bounded by ``batch_size`` where the format allows streaming (CSV, OFX).
        """
        ...

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]: ...


def collect(
    parts: Iterator[Result[StatementPart, ValidationError]], *, format: str
) -> Result[ParsedStatement, ValidationError]:
    """The whole statement from a stream of parts (for callers that want it in memory)."""
    accounts: dict[str, ParsedAccount] = {}
    for part in parts:
        if isinstance(part, Failure):
            return part
        meta = part.value.account
        account = accounts.setdefault(
            meta.provider_account_id,
            ParsedAccount(
                provider_account_id=meta.provider_account_id,
                account_type=meta.account_type,
                currency=meta.currency,
                name=meta.name,
            ),
        )
        if meta.balance is not None:
            account.balance, account.balance_as_of = meta.balance, meta.balance_as_of
        if meta.available_balance is not None:
            account.available_balance = meta.available_balance
            account.available_balance_as_of = meta.available_balance_as_of
        if meta.statement_end is not None:
            account.statement_end = meta.statement_end
        account.transactions.extend(part.value.transactions)
    return Success(ParsedStatement(format=format, accounts=list(accounts.values())))


class ParserFactory(Protocol):
    """Port: the parser for a provider's files (CSV ones need a preset or a mapping)."""

    def parser_for(
        self, provider: str, options: CsvOptions, *, data: bytes | None = None
    ) -> Result[StatementParser, ValidationError]:
        """With ``data``, a file whose content is of another format is refused here."""
        ...

    def provider_for(self, data: bytes) -> str | None:
        """The file provider whose parser reads this content (``None``: no parser does)."""
        ...
