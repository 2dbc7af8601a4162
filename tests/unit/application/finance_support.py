"""Builders shared by the financial-data handler tests: seeded rows and a scripted parser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, AccountType, BalanceSnapshot
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.imports.statement import (
    CsvOptions,
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    ParsedTransaction,
    StatementParser,
    StatementPart,
    collect,
)
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from tests.fakes import FakeStore

OWNER = UUID("01900000-0000-7000-8000-000000000001")
STRANGER = UUID("01900000-0000-7000-8000-000000000002")
NUMBER = "123456789"
MASKED = "\u2022\u2022\u2022\u20226789"
STATEMENT_DATE = datetime(2025, 4, 30, 12, tzinfo=UTC)

PartResult = Result[StatementPart, ValidationError]


def seed_connection(
    store: FakeStore,
    *,
    user_id: UUID = OWNER,
    provider: ProviderSlug = ProviderSlug.OFX_FILE,
    status: ConnectionStatus = ConnectionStatus.ACTIVE,
    label: str = "My bank",
) -> ProviderConnection:
    """A committed connection (test setup, bypassing any unit of work)."""
    connection = ProviderConnection(user_id=user_id, provider=provider, label=label, status=status)
    store.connections[connection.id] = connection
    return connection


async def seed_account(
    store: FakeStore,
    connection: ProviderConnection,
    number: str = NUMBER,
    *,
    account_type: AccountType = AccountType.CHECKING,
    currency: str = "USD",
    balance: str | None = None,
    transactions: int = 0,
) -> Account:
    """A committed account (with a snapshot when it has a balance, and some transactions)."""
    async with store.uow() as uow:
        upserted = await uow.accounts.upsert(
            AccountUpsert(
                user_id=connection.user_id,
                connection_id=connection.id,
                provider_account_id=number,
                name=f"Account {number}",
                account_type=account_type,
                currency=currency,
                balance=Decimal(balance) if balance is not None else None,
                balance_as_of=STATEMENT_DATE if balance is not None else None,
            )
        )
        account, _ = upserted.unwrap()
        if balance is not None:
            snapshot = BalanceSnapshot(
                account_id=account.id, balance=Decimal(balance), as_of=STATEMENT_DATE
            )
            (await uow.accounts.add_snapshot(snapshot)).unwrap()
        batch = [tx(f"{number}-{n}") for n in range(transactions)]
        (await uow.transactions.upsert_batch(account.id, currency, batch)).unwrap()
        (await uow.commit()).unwrap()
    return account


def tx(fitid: str, amount: str = "-1.00", day: int = 1, **kw: object) -> ParsedTransaction:
    return ParsedTransaction(
        provider_transaction_id=fitid,
        amount=Decimal(amount),
        posted_on=date(2025, 4, day),
        description=str(kw.pop("description", f"tx {fitid}")),
        **kw,  # type: ignore[arg-type]
    )


def part(
    *transactions: ParsedTransaction,
    number: str = NUMBER,
    done: int = 1,
    total: int = 1,
    currency: str = "USD",
    account_type: AccountType = AccountType.CHECKING,
    balance: str | None = None,
) -> PartResult:
    account = ParsedAccount(
        provider_account_id=number,
        account_type=account_type,
        currency=currency,
        balance=Decimal(balance) if balance is not None else None,
        balance_as_of=STATEMENT_DATE if balance is not None else None,
    )
    return Success(
        StatementPart(account=account, transactions=list(transactions), done=done, total=total)
    )


@dataclass
class ScriptedParser:
    """A ``StatementParser`` that yields the parts it was given, stopping at a Failure."""

    parts: list[PartResult]
    format: str = "ofx"
    yielded: int = 0

    def stream(self, data: bytes, *, limits: ImportLimits, batch_size: int) -> Iterator[PartResult]:
        for item in self.parts:
            self.yielded += 1
            yield item
            if isinstance(item, Failure):
                return

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]:
        return collect(self.stream(data, limits=limits, batch_size=1), format=self.format)


@dataclass
class ScriptedParsers:
    """A ``ParserFactory`` answering every provider with one parser (or one refusal)."""

    parser: StatementParser | None = None
    refusal: ValidationError | None = None
    asked: list[tuple[str, CsvOptions]] = field(default_factory=list)

    def parser_for(
        self, provider: str, options: CsvOptions, *, data: bytes | None = None
    ) -> Result[StatementParser, ValidationError]:
        self.asked.append((provider, options))
        if self.parser is not None:
            return Success(self.parser)
        return Failure(self.refusal or ValidationError("no parser", code="imports_not_supported"))

    def provider_for(self, data: bytes) -> str | None:
        return "ofx-file" if data.lstrip().startswith((b"OFXHEADER", b"<OFX")) else None
