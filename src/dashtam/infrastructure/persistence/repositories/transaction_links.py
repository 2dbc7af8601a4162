"""The ``TransactionRepository`` reads and writes that reconcile rows: bounded look-ups near a
date, and the ``transfer_id`` links between the two sides of a transfer.

A mixin of ``SqlTransactionRepository`` (same session, same port), kept apart so that the
upsert and search module stays one idea.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import TransferFilter
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.finance import AccountModel, TransactionModel
from dashtam.infrastructure.persistence.repositories.dialect import one_of

_T = TransactionModel
# Bulk UPDATEs here skip the identity map: a row read again must come from the database.
_FRESH = {"populate_existing": True}
# What an entity needs, read as plain rows: imports read tens of thousands of rows here, and
# ORM objects (identity map, instance state) would cost more than the query itself. In the
# order ``entity_of_row`` unpacks them (by position: a list of 50 is read on every request).
_ENTITY_COLUMN_NAMES = (
    "id",
    "account_id",
    "provider_transaction_id",
    "amount",
    "currency",
    "posted_on",
    "description",
    "payee",
    "memo",
    "status",
    "check_number",
    "reference",
    "statement_as_of",
    "transfer_id",
    "created_at",
)
ENTITY_COLUMNS = tuple(_T.__table__.c[name] for name in _ENTITY_COLUMN_NAMES)
_STATUSES = {status.value: status for status in TransactionStatus}


def entity_of_row(row: Sequence[Any]) -> Transaction:
    """A row of ``ENTITY_COLUMNS`` as its entity: reads and lists skip the ORM's instances."""
    (
        id_,
        account_id,
        provider_transaction_id,
        amount,
        currency,
        posted_on,
        description,
        payee,
        memo,
        status,
        check_number,
        reference,
        statement_as_of,
        transfer_id,
        created_at,
    ) = row
    return Transaction(
        id=id_,
        account_id=account_id,
        provider_transaction_id=provider_transaction_id,
        amount=amount,
        currency=currency,
        posted_on=posted_on,
        description=description,
        payee=payee,
        memo=memo,
        status=_STATUSES[status],
        check_number=check_number,
        reference=reference,
        statement_as_of=statement_as_of,
        transfer_id=transfer_id,
        created_at=created_at,
    )


def transfer_condition(wanted: TransferFilter) -> ColumnElement[bool] | None:
    """The ``search`` condition of a transfer filter; a self link means "not a transfer".

    On the table's columns (Core), so that the search statement stays a Core statement.
    """
    c = _T.__table__.c
    match wanted:
        case TransferFilter.ONLY:
            return and_(c.transfer_id.is_not(None), c.transfer_id != c.id)
        case TransferFilter.EXCLUDE:
            return or_(c.transfer_id.is_(None), c.transfer_id == c.id)
    return None


class SqlTransactionLinks:
    _session: AsyncSession

    @classified
    async def by_provider_ids(
        self, account_id: UUID, provider_ids: Collection[str]
    ) -> Result[Sequence[Transaction], Error]:
        if not provider_ids:
            return Success([])
        rows = await self._session.execute(
            select(*ENTITY_COLUMNS).where(
                _T.account_id == account_id,
                one_of(self._session, _T.provider_transaction_id, list(provider_ids)),
            )
        )
        return Success([entity_of_row(row) for row in rows.all()])

    @classified
    async def in_window(
        self, account_id: UUID, *, status: TransactionStatus, start: date, end: date
    ) -> Result[Sequence[Transaction], Error]:
        # Pending: a range of the partial index ix_transactions_pending, which a planner uses
        # only for a literal status (a bound parameter does not prove the index's condition).
        # Posted: a range of ix_transactions_account_posted (account_id, posted_on, id).
        rows = await self._session.execute(
            select(*ENTITY_COLUMNS)
            .where(
                _T.account_id == account_id,
                _T.posted_on >= start,
                _T.posted_on <= end,
                _T.status == literal_column(f"'{status.value}'"),
            )
            .order_by(_T.posted_on, _T.id)
        )
        return Success([entity_of_row(row) for row in rows.all()])

    @classified
    async def transfer_candidates(
        self, user_id: UUID, *, amounts: Collection[Decimal], start: date, end: date
    ) -> Result[Sequence[Transaction], Error]:
        if not amounts:
            return Success([])
        # account_id IN (the user's accounts) + a posted_on range: one index range per account;
        # the amounts then narrow the rows read, so a long history is never loaded.
        accounts = select(AccountModel.id).where(AccountModel.user_id == user_id)
        rows = await self._session.execute(
            select(*ENTITY_COLUMNS)
            .where(
                _T.account_id.in_(accounts.scalar_subquery()),
                _T.posted_on >= start,
                _T.posted_on <= end,
                _T.amount.in_(sorted(set(amounts))),
                _T.status == TransactionStatus.POSTED.value,
                _T.transfer_id.is_(None),
            )
            .order_by(_T.posted_on, _T.id)
        )
        return Success([entity_of_row(row) for row in rows.all()])

    @classified
    async def link_transfers(self, pairs: Sequence[tuple[UUID, UUID]]) -> Result[int, Error]:
        if not pairs:
            return Success(0)
        now = utcnow()
        linked = 0
        for one, other in pairs:
            for row_id, partner in ((one, other), (other, one)):
                # Only a row still free: a concurrent import may have linked it since we read it.
                result = await self._session.execute(
                    update(_T)
                    .where(_T.id == row_id, _T.transfer_id.is_(None))
                    .values(transfer_id=partner, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                linked += int(getattr(result, "rowcount", 0) or 0)
        if linked != 2 * len(pairs):
            return Failure(
                ConflictError(
                    "a transaction was linked by another change meanwhile; retry",
                    code="transfer_conflict",
                )
            )
        return Success(len(pairs))

    @classified
    async def set_transfer_ids(self, links: Mapping[UUID, UUID | None]) -> Result[None, Error]:
        if links:
            now = utcnow()
            await self._session.execute(
                update(_T).execution_options(synchronize_session=False),
                [
                    {"id": row_id, "transfer_id": partner, "updated_at": now}
                    for row_id, partner in links.items()
                ],
            )
        return Success(None)

    @classified
    async def get_owned(
        self, user_id: UUID, transaction_id: UUID
    ) -> Result[Transaction | None, Error]:
        row = await self._session.scalar(
            select(_T)
            .join(AccountModel, AccountModel.id == _T.account_id)
            .where(_T.id == transaction_id, AccountModel.user_id == user_id)
            .execution_options(**_FRESH)
        )
        return Success(row.to_entity() if row is not None else None)
