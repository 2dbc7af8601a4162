"""Reads of investments: the owner's positions, trades and value over time, and securities.

Like every financial read: a read-only unit of work through the ``ReadRunner``, one audit
record per read, someone else's account answered (and recorded) as not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from dashtam.application.finance.commands import MAX_TRANSACTION_PAGE
from dashtam.application.finance.queries import owned_account
from dashtam.application.investments.views import (
    AccountHoldings,
    SecurityPosition,
    positions_by_security,
)
from dashtam.application.lifecycle import AuditNote, Audits, ReadRunner, found
from dashtam.application.reads import ReadAuditLog, ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType
from dashtam.domain.investments.entities import (
    Holding,
    InvestmentTransaction,
    Security,
    ValuePoint,
)
from dashtam.domain.investments.repository import (
    InvestmentTransactionCursor,
    InvestmentTransactionQuery,
)

MAX_INVESTMENT_PAGE = MAX_TRANSACTION_PAGE

_READ = Audits(action=AuditAction.FINANCIAL_DATA_READ, resource_type=ResourceType.HOLDING)


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchInvestmentTransactions:
    user_id: UUID
    query: InvestmentTransactionQuery
    after: InvestmentTransactionCursor | None
    limit: int
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class InvestmentTransactionSlice:
    """One page of a search; ``next_after`` is where the next page starts (None: no more)."""

    items: Sequence[InvestmentTransaction]
    next_after: InvestmentTransactionCursor | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ValueHistory:
    account: Account
    points: Sequence[ValuePoint]


@dataclass(frozen=True, slots=True, kw_only=True)
class Portfolio:
    """The owner's accounts and each one's latest positions, as read together."""

    accounts: Sequence[Account]
    holdings: Sequence[Holding]


@dataclass(frozen=True, slots=True, kw_only=True)
class CashAt:
    available_cash: Decimal | None = None
    as_of: datetime | None = None


class InvestmentQueries:
    """Every method reads the caller's own accounts only; securities are shared by everyone."""

    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory, audit_log: ReadAuditLog) -> None:
        self._runner = ReadRunner(uow_factory, audit_log=audit_log)

    async def holdings(
        self, user_id: UUID, account_id: UUID, as_of: datetime | None, context: AuditContext
    ) -> Result[AccountHoldings, Error]:
        """The account's latest snapshot at or before ``as_of`` (None: the latest), with cash."""
        note = _note(context, ResourceType.HOLDING, account_id, "holdings")

        async def read(uow: ReadUnitOfWork) -> Result[AccountHoldings, Error]:
            owned = await owned_account(uow, note, user_id, account_id)
            if isinstance(owned, Failure):
                return owned
            positions = await uow.holdings.at(account_id, as_of)
            if isinstance(positions, Failure):
                return positions
            cash = await _cash_at(uow, account_id, as_of)
            if isinstance(cash, Failure):
                return cash
            note.on_success(count=len(positions.value))
            return Success(
                AccountHoldings(
                    account=owned.value,
                    holdings=positions.value,
                    available_cash=cash.value.available_cash,
                    cash_as_of=cash.value.as_of,
                )
            )

        return await self._runner.read(note, read)

    async def all_holdings(
        self, user_id: UUID, context: AuditContext
    ) -> Result[list[SecurityPosition], Error]:
        """The latest positions of every account of the caller, by security and currency."""
        note = _note(context, ResourceType.HOLDING, None, "all_holdings")

        async def read(uow: ReadUnitOfWork) -> Result[list[SecurityPosition], Error]:
            latest = await uow.holdings.latest_for_user(user_id)
            if isinstance(latest, Failure):
                return latest
            note.on_success(count=len(latest.value))
            return Success(positions_by_security(latest.value))

        return await self._runner.read(note, read)

    async def portfolio(self, user_id: UUID, context: AuditContext) -> Result[Portfolio, Error]:
        """Every account of the caller and its latest positions, unaggregated (one read)."""
        note = _note(context, ResourceType.HOLDING, None, "portfolio")

        async def read(uow: ReadUnitOfWork) -> Result[Portfolio, Error]:
            accounts = await uow.accounts.list_for_user(user_id)
            if isinstance(accounts, Failure):
                return accounts
            latest = await uow.holdings.latest_for_user(user_id)
            if isinstance(latest, Failure):
                return latest
            note.on_success(count=len(latest.value))
            return Success(Portfolio(accounts=accounts.value, holdings=latest.value))

        return await self._runner.read(note, read)

    async def security(self, security_id: UUID, context: AuditContext) -> Result[Security, Error]:
        """Shared data (it names no holder), read like the rest: audited, 404 when missing."""
        note = _note(context, ResourceType.SECURITY, security_id, "security")

        async def read(uow: ReadUnitOfWork) -> Result[Security, Error]:
            return found(await uow.securities.get(security_id), "security")

        return await self._runner.read(note, read)

    async def transaction_page(
        self, command: SearchInvestmentTransactions, *, max_limit: int = MAX_INVESTMENT_PAGE
    ) -> Result[InvestmentTransactionSlice, Error]:
        limit = max(1, min(command.limit, max_limit))
        query = command.query
        note = _note(
            command.context,
            ResourceType.INVESTMENT_TRANSACTION,
            query.account_id,
            "investment_transactions",
        )

        async def read(uow: ReadUnitOfWork) -> Result[InvestmentTransactionSlice, Error]:
            owned = await owned_account(uow, note, command.user_id, query.account_id)
            if isinstance(owned, Failure):
                return owned
            # One row past the page says whether another page exists (as /transactions does).
            found_rows = await uow.investment_transactions.search(
                query, after=command.after, limit=limit + 1
            )
            if isinstance(found_rows, Failure):
                return found_rows
            items, more = found_rows.value[:limit], len(found_rows.value) > limit
            note.on_success(count=len(items))
            last = items[-1] if more else None
            after = InvestmentTransactionCursor(last.trade_date, last.id) if last else None
            return Success(InvestmentTransactionSlice(items=items, next_after=after))

        return await self._runner.read(note, read)

    async def value_history(
        self, user_id: UUID, account_id: UUID, context: AuditContext
    ) -> Result[ValueHistory, Error]:
        """Cash plus positions per statement, oldest first."""
        note = _note(context, ResourceType.HOLDING, account_id, "value_history")

        async def read(uow: ReadUnitOfWork) -> Result[ValueHistory, Error]:
            owned = await owned_account(uow, note, user_id, account_id)
            if isinstance(owned, Failure):
                return owned
            history = await uow.holdings.value_history(account_id)
            if isinstance(history, Failure):
                return history
            note.on_success(count=len(history.value))
            return Success(ValueHistory(account=owned.value, points=history.value))

        return await self._runner.read(note, read)


def _note(
    context: AuditContext, resource_type: ResourceType, resource_id: UUID | None, view: str
) -> AuditNote:
    note = _READ.note(context, resource_id=resource_id, view=view)
    note.resource_type = resource_type
    return note


async def _cash_at(
    uow: ReadUnitOfWork, account_id: UUID, as_of: datetime | None
) -> Result[CashAt, Error]:
    """The account's available cash at ``as_of`` (None: the latest).

    The latest balance answers most reads; an earlier time needs the statement then, which
    only the value history keeps (one point per statement, oldest first).
    """
    latest = await uow.holdings.latest_balance(account_id)
    if isinstance(latest, Failure):
        return latest
    balance = latest.value
    if balance is None:
        return Success(CashAt())
    if as_of is None or balance.as_of <= as_of:
        return Success(CashAt(available_cash=balance.available_cash, as_of=balance.as_of))
    history = await uow.holdings.value_history(account_id)
    if isinstance(history, Failure):
        return history
    earlier = [point for point in history.value if point.as_of <= as_of]
    if not earlier:
        return Success(CashAt())
    return Success(CashAt(available_cash=earlier[-1].cash, as_of=earlier[-1].as_of))
