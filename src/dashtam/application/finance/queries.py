"""Reads of financial data: scoped to the owner, and each one audited as a sensitive read.

Reads run in a read-only unit of work and hand their audit record to the ``ReadAuditLog``,
which writes read records in batches: a read never commits, so it never waits for (or fails
because of) the write lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from dashtam.application.finance.commands import MAX_TRANSACTION_PAGE, SearchTransactions
from dashtam.application.lifecycle import AuditNote, Audits, ReadRunner, found
from dashtam.application.reads import ReadAuditLog, ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType
from dashtam.domain.investments.entities import Holding
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.repository import TransactionCursor

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyTotals:
    currency: str
    assets: Decimal
    liabilities: Decimal
    # The oldest price behind the investment accounts' value (None: no positions).
    prices_as_of: datetime | None = None

    @property
    def net_worth(self) -> Decimal:
        return self.assets + self.liabilities


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionSlice:
    """One page of a search; ``next_after`` is where the next page starts (None: no more)."""

    items: Sequence[Transaction]
    next_after: TransactionCursor | None


_READ = Audits(action=AuditAction.FINANCIAL_DATA_READ, resource_type=ResourceType.ACCOUNT)


class FinanceQueries:
    """Every method reads the caller's own data only; anything else is 'not found'."""

    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory, audit_log: ReadAuditLog) -> None:
        self._runner = ReadRunner(uow_factory, audit_log=audit_log)

    async def connections(
        self, user_id: UUID, context: AuditContext
    ) -> Result[Sequence[ProviderConnection], Error]:
        note = _note(context, ResourceType.PROVIDER_CONNECTION, None, "connections")
        return await self._runner.read(note, lambda uow: uow.connections.list_for_user(user_id))

    async def accounts(
        self, user_id: UUID, context: AuditContext
    ) -> Result[Sequence[Account], Error]:
        note = _note(context, ResourceType.ACCOUNT, None, "accounts")

        async def read(uow: ReadUnitOfWork) -> Result[Sequence[Account], Error]:
            found = await uow.accounts.list_for_user(user_id)
            if isinstance(found, Success):
                note.on_success(count=len(found.value))
            return found

        return await self._runner.read(note, read)

    async def account(
        self, user_id: UUID, account_id: UUID, context: AuditContext
    ) -> Result[Account, Error]:
        note = _note(context, ResourceType.ACCOUNT, account_id, "account")
        return await self._runner.read(
            note, lambda uow: owned_account(uow, note, user_id, account_id)
        )

    async def balance_history(
        self, user_id: UUID, account_id: UUID, context: AuditContext
    ) -> Result[tuple[Account, Sequence[BalanceSnapshot]], Error]:
        note = _note(context, ResourceType.ACCOUNT, account_id, "balance_history")

        async def read(
            uow: ReadUnitOfWork,
        ) -> Result[tuple[Account, Sequence[BalanceSnapshot]], Error]:
            owned = await owned_account(uow, note, user_id, account_id)
            if isinstance(owned, Failure):
                return owned
            history = await uow.accounts.balance_history(account_id)
            return history.map(lambda snapshots: (owned.value, snapshots))

        return await self._runner.read(note, read)

    async def transactions(
        self, command: SearchTransactions, *, max_limit: int = MAX_TRANSACTION_PAGE
    ) -> Result[Sequence[Transaction], Error]:
        page = await self.transaction_page(command, max_limit=max_limit)
        return page.map(lambda slice_: slice_.items)

    async def transaction_page(
        self, command: SearchTransactions, *, max_limit: int = MAX_TRANSACTION_PAGE
    ) -> Result[TransactionSlice, Error]:
        limit = max(1, min(command.limit, max_limit))
        query = command.query
        note = _note(command.context, ResourceType.TRANSACTION, query.account_id, "transactions")

        async def read(uow: ReadUnitOfWork) -> Result[TransactionSlice, Error]:
            if query.account_id is not None:
                owned = await owned_account(uow, note, query.user_id, query.account_id)
                if isinstance(owned, Failure):
                    return owned
            # One row past the page says whether another page exists, in the same query:
            # a full last page then ends the walk instead of costing an empty request.
            found = await uow.transactions.search(query, after=command.after, limit=limit + 1)
            if isinstance(found, Failure):
                return found
            items, more = found.value[:limit], len(found.value) > limit
            note.on_success(count=len(items))
            last = items[-1] if more else None
            after = TransactionCursor(last.posted_on, last.id) if last is not None else None
            return Success(TransactionSlice(items=items, next_after=after))

        return await self._runner.read(note, read)

    async def net_worth(
        self, user_id: UUID, context: AuditContext
    ) -> Result[Sequence[CurrencyTotals], Error]:
        note = _note(context, ResourceType.ACCOUNT, None, "net_worth")

        async def read(uow: ReadUnitOfWork) -> Result[Sequence[CurrencyTotals], Error]:
            accounts = await uow.accounts.list_for_user(user_id)
            if isinstance(accounts, Failure):
                return accounts
            # Investment balances already are cash + positions (the import stores them so):
            # the holdings only date the prices that value says.
            holdings = await uow.holdings.latest_for_user(user_id)
            if isinstance(holdings, Failure):
                return holdings
            return Success(net_worth_by_currency(accounts.value, holdings.value))

        return await self._runner.read(note, read)


def _note(
    context: AuditContext, resource_type: ResourceType, resource_id: UUID | None, view: str
) -> AuditNote:
    note = _READ.note(context, resource_id=resource_id, view=view)
    note.resource_type = resource_type
    return note


async def owned_account(
    uow: ReadUnitOfWork, note: AuditNote, user_id: UUID, account_id: UUID
) -> Result[Account, Error]:
    """The caller's account; anything else is "not found", recorded against that account."""
    owned = found(await uow.accounts.get_owned(user_id, account_id), "account")
    if isinstance(owned, Failure):
        # A probe for someone else's account is recorded against that account.
        note.resource_type, note.resource_id = ResourceType.ACCOUNT, account_id
    return owned


def net_worth_by_currency(
    accounts: Sequence[Account], holdings: Sequence[Holding] = ()
) -> list[CurrencyTotals]:
    """Sums per currency (never converted); liabilities are the (signed) card and loan balances.

    ``prices_as_of`` is the oldest price date among ``holdings`` (each account's latest
    positions), by their account's currency: how stale the investments' part may be.
    """
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for account in accounts:
        if account.balance is None:
            continue
        assets, liabilities = totals.get(account.currency, (Decimal(0), Decimal(0)))
        if account.account_type.is_liability:
            # Issuers export card balances either as owed (positive) or signed (negative);
            # a liability always lowers net worth.
            liabilities -= abs(account.balance)
        else:
            assets += account.balance
        totals[account.currency] = (assets, liabilities)
    priced = _oldest_prices(accounts, holdings)
    return [
        CurrencyTotals(
            currency=currency,
            assets=assets,
            liabilities=liabilities,
            prices_as_of=priced.get(currency),
        )
        for currency, (assets, liabilities) in sorted(totals.items())
    ]


def _oldest_prices(accounts: Sequence[Account], holdings: Sequence[Holding]) -> dict[str, datetime]:
    # Only the accounts whose balance is counted: a price that values nothing dates nothing.
    currency_of = {a.id: a.currency for a in accounts if a.balance is not None}
    oldest: dict[str, datetime] = {}
    for holding in holdings:
        currency = currency_of.get(holding.account_id)
        if currency is None:
            continue
        priced = holding.price_as_of or holding.as_of
        if currency not in oldest or priced < oldest[currency]:
            oldest[currency] = priced
    return oldest
