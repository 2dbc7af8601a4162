"""SQLAlchemy adapter of the ``TransactionRepository`` port: batch upserts, filtered search."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.result import Result, Success
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import (
    PendingReplacement,
    TransactionCursor,
    TransactionQuery,
    UpsertCounts,
)
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.finance import TransactionModel
from dashtam.infrastructure.persistence.repositories.keyed_batches import (
    stored_rows,
    write_keyed_batch,
)
from dashtam.infrastructure.persistence.repositories.transaction_links import (
    SqlTransactionLinks,
    entity_of_row,
)
from dashtam.infrastructure.persistence.repositories.transaction_search import search_statement

_COMPARED = (
    "amount",
    "posted_on",
    "description",
    "payee",
    "memo",
    "status",
    "check_number",
    "reference",
)


class SqlTransactionRepository(SqlTransactionLinks):
    """Rows are written in bulk (never one ORM object per row); reads are the owner's only."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def upsert_batch(
        self,
        account_id: UUID,
        currency: str,
        batch: Sequence[ParsedTransaction],
        *,
        statement_as_of: datetime | None = None,
        may_be_stored: Collection[str] | None = None,
        written: set[str] | None = None,
    ) -> Result[UpsertCounts, Error]:
        if not batch:
            return Success(UpsertCounts())
        # A file may repeat an id (some banks do): the last occurrence describes it best.
        incoming = {item.provider_transaction_id: item for item in batch}
        keys = [key for key in incoming if may_be_stored is None or key in may_be_stored]
        counts = await write_keyed_batch(
            self._session,
            TransactionModel,
            incoming=incoming,
            stored=(
                await stored_rows(self._session, TransactionModel, _COMPARED, account_id, keys)
                if keys
                else {}
            ),
            compared=_COMPARED,
            values=_values,
            fixed={"account_id": account_id, "currency": currency},
            statement_as_of=statement_as_of,
            written=written,
        )
        return Success(counts)

    @classified
    async def absorb_pending(
        self, replacements: Sequence[PendingReplacement]
    ) -> Result[int, Error]:
        if not replacements:
            return Success(0)
        stored = {
            row.id: row.statement_as_of
            for row in await self._session.execute(
                select(TransactionModel.id, TransactionModel.statement_as_of).where(
                    TransactionModel.id.in_([r.row_id for r in replacements])
                )
            )
        }
        now = utcnow()
        rows = [
            {
                "id": r.row_id,
                "provider_transaction_id": r.posted.provider_transaction_id,
                **dict(zip(_COMPARED, _values(r.posted), strict=True)),
                "statement_as_of": _later(stored[r.row_id], r.statement_as_of),
                "updated_at": now,
            }
            for r in replacements
            if r.row_id in stored
        ]
        if rows:
            await self._session.execute(
                update(TransactionModel).execution_options(synchronize_session=False), rows
            )
        return Success(len(rows))

    @classified
    async def remove_pending(
        self, account_id: UUID, *, keep: Collection[str]
    ) -> Result[int, Error]:
        # Pending rows are few per account: read them, decide here, delete by primary key.
        rows = (
            await self._session.execute(
                select(TransactionModel.id, TransactionModel.provider_transaction_id).where(
                    TransactionModel.account_id == account_id,
                    TransactionModel.status == TransactionStatus.PENDING.value,
                )
            )
        ).all()
        gone = [row.id for row in rows if row.provider_transaction_id not in keep]
        if gone:
            await self._session.execute(
                delete(TransactionModel)
                .where(TransactionModel.id.in_(gone))
                .execution_options(synchronize_session=False)
            )
        return Success(len(gone))

    @classified
    async def search(
        self, query: TransactionQuery, *, after: TransactionCursor | None, limit: int
    ) -> Result[Sequence[Transaction], Error]:
        dialect = self._session.get_bind().dialect.name
        statement, params = search_statement(query, after=after, limit=limit, dialect=dialect)
        rows = (await self._session.execute(statement, params)).all()
        return Success([entity_of_row(row) for row in rows])


def _values(item: ParsedTransaction) -> tuple[object, ...]:
    """The ``_COMPARED`` columns, in that order, as the row holds them."""
    return (
        item.amount,
        item.posted_on,
        item.description,
        item.payee,
        item.memo,
        item.status.value,
        item.check_number[:32] if item.check_number else None,
        item.reference[:64] if item.reference else None,
    )


def _later(stored: datetime | None, incoming: datetime | None) -> datetime | None:
    if stored is None or incoming is None:
        return stored or incoming
    return max(stored, incoming)
