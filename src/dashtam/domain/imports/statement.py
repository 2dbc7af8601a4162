"""What a parser makes of a bank export file, before anything is stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from dashtam.core.errors import ValidationError
from dashtam.core.result import Result
from dashtam.domain.accounts.entities import AccountType
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


@dataclass(slots=True, kw_only=True)
class ParsedAccount:
    provider_account_id: str
    account_type: AccountType
    currency: str
    name: str | None = None
    balance: Decimal | None = None
    balance_as_of: datetime | None = None
    transactions: list[ParsedTransaction] = field(default_factory=list)


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


class StatementParser(Protocol):
    """Port: turns file bytes into a statement; sync and CPU-bound (callers use a thread)."""

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]: ...


class ParserFactory(Protocol):
    """Port: the parser for a provider's files (CSV ones need a preset or a mapping)."""

    def parser_for(
        self, provider: str, options: CsvOptions
    ) -> Result[StatementParser, ValidationError]: ...
