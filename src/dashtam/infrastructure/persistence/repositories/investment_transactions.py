"""SQLAlchemy adapter of the ``InvestmentTransactionRepository`` port: batch upserts, search.

Upserts follow ``SqlTransactionRepository.upsert_batch``: new rows in one INSERT ... ON
CONFLICT DO NOTHING, changed rows in one bulk UPDATE, and a row last written by a newer
statement is left alone (counted ``outdated``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import Error
from dashtam.core.result import Result, Success
from dashtam.domain.imports.investments import ParsedInvestmentTransaction
from dashtam.domain.investments.entities import InvestmentTransaction
from dashtam.domain.investments.repository import (
    InvestmentTransactionCursor,
    InvestmentTransactionQuery,
)
from dashtam.domain.transactions.repository import UpsertCounts
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.investments import (
    InvestmentTransactionModel,
    SecurityModel,
)
from dashtam.infrastructure.persistence.repositories.keyed_batches import (
    stored_rows,
    write_keyed_batch,
)

COMPARED = (
    "kind",
    "security_id",
    "trade_date",
    "settle_date",
    "units",
    "unit_price",
    "commission",
    "fees",
    "taxes",
    "load",
    "total",
    "income_type",
    "held_in",
    "cash_held_in",
    "source_401k",
    "memo",
)

Resolved = tuple[UUID | None, ParsedInvestmentTransaction]


class SqlInvestmentTransactionRepository:
    """Rows are written in bulk (never one ORM object per row); never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def upsert_batch(
        self,
        account_id: UUID,
        currency: str,
        batch: Sequence[Resolved],
        *,
        statement_as_of: datetime | None = None,
    ) -> Result[UpsertCounts, Error]:
        if not batch:
            return Success(UpsertCounts())
        # A file may repeat an id: the last occurrence describes it best.
        incoming = {item.provider_transaction_id: (sid, item) for sid, item in batch}
        counts = await write_keyed_batch(
            self._session,
            InvestmentTransactionModel,
            incoming=incoming,
            stored=await stored_rows(
                self._session, InvestmentTransactionModel, COMPARED, account_id, list(incoming)
            ),
            compared=COMPARED,
            values=lambda resolved: values(*resolved),
            fixed={"account_id": account_id, "currency": currency},
            statement_as_of=statement_as_of,
        )
        return Success(counts)

    @classified
    async def search(
        self,
        query: InvestmentTransactionQuery,
        *,
        after: InvestmentTransactionCursor | None,
        limit: int,
    ) -> Result[Sequence[InvestmentTransaction], Error]:
        model = InvestmentTransactionModel
        statement = (
            select(model, SecurityModel)
            .outerjoin(SecurityModel, SecurityModel.id == model.security_id)
            .where(model.account_id == query.account_id)
            .order_by(model.trade_date.desc(), model.id.desc())
            .limit(limit)
        )
        if query.security_id is not None:
            statement = statement.where(model.security_id == query.security_id)
        if query.kind is not None:
            statement = statement.where(model.kind == query.kind.value)
        if query.trade_from is not None:
            statement = statement.where(model.trade_date >= query.trade_from)
        if query.trade_to is not None:
            statement = statement.where(model.trade_date <= query.trade_to)
        if after is not None:
            statement = statement.where(
                tuple_(model.trade_date, model.id) < tuple_(after.trade_date, after.id)
            )
        rows = await self._session.execute(statement)
        return Success(
            [
                row.to_entity(security.to_entity() if security is not None else None)
                for row, security in rows
            ]
        )

    @classified
    async def of_securities(
        self, account_id: UUID, security_ids: Collection[UUID], *, through: date
    ) -> Result[Sequence[InvestmentTransaction], Error]:
        if not security_ids:
            return Success([])
        model = InvestmentTransactionModel
        rows = await self._session.execute(
            select(model, SecurityModel)
            .join(SecurityModel, SecurityModel.id == model.security_id)
            .where(
                model.account_id == account_id,
                model.security_id.in_(list(security_ids)),
                model.trade_date <= through,
            )
            .order_by(model.trade_date, model.id)
        )
        return Success([row.to_entity(security.to_entity()) for row, security in rows])


def values(security_id: UUID | None, item: ParsedInvestmentTransaction) -> tuple[object, ...]:
    """The ``COMPARED`` columns, in that order, as the row would hold them."""
    return (
        item.kind.value,
        security_id,
        item.trade_date,
        item.settle_date,
        item.units,
        item.unit_price,
        item.commission,
        item.fees,
        item.taxes,
        item.load,
        item.total,
        item.income_type.value if item.income_type else None,
        item.held_in.value if item.held_in else None,
        item.cash_held_in.value if item.cash_held_in else None,
        item.source_401k[:32] if item.source_401k else None,
        item.memo[:500] if item.memo else None,
    )
