"""Reads of financial data: scoped to the owner, and each one audited as a sensitive read.

Reads run in a read-only unit of work and hand their audit record to the ``ReadAuditLog``,
which writes read records in batches: a read never commits, so it never waits for (or fails
because of) the write lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from dashtam.application.finance.commands import MAX_TRANSACTION_PAGE, SearchTransactions
from dashtam.application.reads import ReadAuditLog, ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.entities import Transaction

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyTotals:
    currency: str
    assets: Decimal
    liabilities: Decimal

    @property
    def net_worth(self) -> Decimal:
        return self.assets + self.liabilities


class FinanceQueries:
    """Every method reads the caller's own data only; anything else is 'not found'."""

    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory, audit_log: ReadAuditLog) -> None:
        self._uow_factory = uow_factory
        self._audit_log = audit_log

    async def connections(
        self, user_id: UUID, context: AuditContext
    ) -> Result[Sequence[ProviderConnection], Error]:
        async with self._uow_factory() as uow:
            found = await uow.connections.list_for_user(user_id)
        if isinstance(found, Failure):
            return found
        return await self._audited(
            context, ResourceType.PROVIDER_CONNECTION, None, {"view": "connections"}, found
        )

    async def accounts(
        self, user_id: UUID, context: AuditContext
    ) -> Result[Sequence[Account], Error]:
        async with self._uow_factory() as uow:
            found = await uow.accounts.list_for_user(user_id)
        if isinstance(found, Failure):
            return found
        metadata: dict[str, object] = {"view": "accounts", "count": len(found.value)}
        return await self._audited(context, ResourceType.ACCOUNT, None, metadata, found)

    async def account(
        self, user_id: UUID, account_id: UUID, context: AuditContext
    ) -> Result[Account, Error]:
        async with self._uow_factory() as uow:
            found = await self._owned_account(uow, user_id, account_id, context, "account")
        if isinstance(found, Failure):
            return found
        return await self._audited(
            context, ResourceType.ACCOUNT, account_id, {"view": "account"}, found
        )

    async def balance_history(
        self, user_id: UUID, account_id: UUID, context: AuditContext
    ) -> Result[tuple[Account, Sequence[BalanceSnapshot]], Error]:
        async with self._uow_factory() as uow:
            found = await self._owned_account(uow, user_id, account_id, context, "balance_history")
            if isinstance(found, Failure):
                return found
            history = await uow.accounts.balance_history(account_id)
        if isinstance(history, Failure):
            return history
        return await self._audited(
            context,
            ResourceType.ACCOUNT,
            account_id,
            {"view": "balance_history"},
            Success((found.value, history.value)),
        )

    async def transactions(
        self, command: SearchTransactions, *, max_limit: int = MAX_TRANSACTION_PAGE
    ) -> Result[Sequence[Transaction], Error]:
        limit = max(1, min(command.limit, max_limit))
        query = command.query
        async with self._uow_factory() as uow:
            if query.account_id is not None:
                owned = await self._owned_account(
                    uow, query.user_id, query.account_id, command.context, "transactions"
                )
                if isinstance(owned, Failure):
                    return owned
            found = await uow.transactions.search(query, after=command.after, limit=limit)
        if isinstance(found, Failure):
            return found
        return await self._audited(
            command.context,
            ResourceType.TRANSACTION,
            query.account_id,
            {"view": "transactions", "count": len(found.value)},
            found,
        )

    async def net_worth(
        self, user_id: UUID, context: AuditContext
    ) -> Result[Sequence[CurrencyTotals], Error]:
        async with self._uow_factory() as uow:
            found = await uow.accounts.list_for_user(user_id)
        if isinstance(found, Failure):
            return found
        totals = Success(net_worth_by_currency(found.value))
        return await self._audited(
            context, ResourceType.ACCOUNT, None, {"view": "net_worth"}, totals
        )

    async def _audited(
        self,
        context: AuditContext,
        resource_type: ResourceType,
        resource_id: UUID | None,
        metadata: dict[str, object],
        read: Success[T],
    ) -> Result[T, Error]:
        """``read``, once its record is accepted by the read audit log (a refusal fails it).

        Called after the read's transaction has ended: waiting for room in a full log must
        not hold a connection.
        """
        accepted = await self._audit_log.record(
            AuditEntry.of(
                context,
                action=AuditAction.FINANCIAL_DATA_READ,
                outcome=AuditOutcome.SUCCEEDED,
                resource_type=resource_type,
                resource_id=resource_id,
                metadata=metadata,
            )
        )
        return accepted if isinstance(accepted, Failure) else read

    @staticmethod
    async def _owned_account(
        uow: ReadUnitOfWork, user_id: UUID, account_id: UUID, context: AuditContext, view: str
    ) -> Result[Account, Error]:
        found = await uow.accounts.get_owned(user_id, account_id)
        if isinstance(found, Failure):
            return found
        if found.value is None:
            # A probe for someone else's account is as worth auditing as a read of one's own.
            await uow.record_failure(
                AuditEntry.of(
                    context,
                    action=AuditAction.FINANCIAL_DATA_READ,
                    outcome=AuditOutcome.FAILED,
                    resource_type=ResourceType.ACCOUNT,
                    resource_id=account_id,
                    reason="not_found",
                    metadata={"view": view},
                )
            )
            return Failure(NotFoundError("account not found"))
        return Success(found.value)


def net_worth_by_currency(accounts: Sequence[Account]) -> list[CurrencyTotals]:
    """Sums per currency (never converted); liabilities are the (signed) card and loan balances."""
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
    return [
        CurrencyTotals(currency=currency, assets=assets, liabilities=liabilities)
        for currency, (assets, liabilities) in sorted(totals.items())
    ]
