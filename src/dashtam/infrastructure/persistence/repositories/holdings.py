"""SQLAlchemy adapter of the ``HoldingRepository`` port: positions and cash per statement."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.ids import new_id
from dashtam.core.result import Result, Success
from dashtam.domain.imports.investments import ParsedInvestmentBalance, ParsedPosition
from dashtam.domain.investments.entities import (
    HeldIn,
    Holding,
    InvestmentBalance,
    PositionType,
    ValuePoint,
)
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.finance import AccountModel
from dashtam.infrastructure.persistence.models.investments import (
    HoldingModel,
    InvestmentBalanceModel,
    SecurityModel,
)
from dashtam.infrastructure.persistence.repositories.dialect import insert_for

ZERO = Decimal("0.0000")

PositionKey = tuple[UUID, HeldIn, PositionType]


class SqlHoldingRepository:
    """Snapshots are written in bulk and never changed; never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add_snapshot(
        self,
        account_id: UUID,
        currency: str,
        as_of: datetime,
        positions: Sequence[tuple[UUID, ParsedPosition]],
    ) -> Result[int, Error]:
        if not positions:
            return Success(0)
        now = utcnow()
        rows = [
            {
                "id": new_id(),
                "account_id": account_id,
                "currency": currency,
                "as_of": as_of,
                "created_at": now,
                **values,
            }
            for values in merged_positions(positions)
        ]
        # ON CONFLICT DO NOTHING: a snapshot imported again (or concurrently) adds nothing.
        result = await self._session.execute(
            insert_for(self._session)(HoldingModel)
            .on_conflict_do_nothing(
                index_elements=["account_id", "security_id", "as_of", "held_in", "position_type"]
            )
            .returning(HoldingModel.id),
            rows,
        )
        return Success(len(result.all()))

    @classified
    async def at(
        self, account_id: UUID, as_of: datetime | None
    ) -> Result[Sequence[Holding], Error]:
        latest = select(func.max(HoldingModel.as_of)).where(HoldingModel.account_id == account_id)
        if as_of is not None:
            latest = latest.where(HoldingModel.as_of <= as_of)
        statement = _with_security().where(
            HoldingModel.account_id == account_id,
            HoldingModel.as_of == latest.scalar_subquery(),
        )
        return Success(await self._holdings(statement))

    @classified
    async def latest_for_user(self, user_id: UUID) -> Result[Sequence[Holding], Error]:
        latest = (
            select(HoldingModel.account_id, func.max(HoldingModel.as_of).label("as_of"))
            .join(AccountModel, AccountModel.id == HoldingModel.account_id)
            .where(AccountModel.user_id == user_id)
            .group_by(HoldingModel.account_id)
            .subquery()
        )
        statement = _with_security().join(
            latest,
            (latest.c.account_id == HoldingModel.account_id)
            & (latest.c.as_of == HoldingModel.as_of),
        )
        return Success(await self._holdings(statement))

    @classified
    async def add_balance(
        self, account_id: UUID, as_of: datetime, balance: ParsedInvestmentBalance
    ) -> Result[bool, Error]:
        inserted = await self._session.execute(
            insert_for(self._session)(InvestmentBalanceModel)
            .values(
                id=new_id(),
                account_id=account_id,
                as_of=as_of,
                available_cash=balance.available_cash,
                margin_balance=balance.margin_balance,
                short_balance=balance.short_balance,
                buying_power=balance.buying_power,
                details=dict(balance.details),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["account_id", "as_of"])
            .returning(InvestmentBalanceModel.id)
        )
        return Success(inserted.scalar_one_or_none() is not None)

    @classified
    async def latest_balance(self, account_id: UUID) -> Result[InvestmentBalance | None, Error]:
        row = await self._session.scalar(
            select(InvestmentBalanceModel)
            .where(InvestmentBalanceModel.account_id == account_id)
            .order_by(InvestmentBalanceModel.as_of.desc())
            .limit(1)
        )
        return Success(row.to_entity() if row is not None else None)

    @classified
    async def value_history(self, account_id: UUID) -> Result[Sequence[ValuePoint], Error]:
        # Money is a scaled BIGINT on SQLite, so SUM is exact there too (unlike quantities).
        positions = await self._session.execute(
            select(HoldingModel.as_of, func.sum(HoldingModel.market_value).label("value"))
            .where(HoldingModel.account_id == account_id)
            .group_by(HoldingModel.as_of)
        )
        cash = await self._session.execute(
            select(InvestmentBalanceModel.as_of, InvestmentBalanceModel.available_cash).where(
                InvestmentBalanceModel.account_id == account_id
            )
        )
        return Success(
            value_points(
                {row.as_of: row.value for row in positions},
                {row.as_of: row.available_cash for row in cash},
            )
        )

    async def _holdings(self, statement: Select[HoldingModel, SecurityModel]) -> list[Holding]:
        rows = await self._session.execute(
            statement.order_by(HoldingModel.account_id, HoldingModel.id)
        )
        return [holding.to_entity(security.to_entity()) for holding, security in rows]


def _with_security() -> Select[HoldingModel, SecurityModel]:
    return select(HoldingModel, SecurityModel).join(
        SecurityModel, SecurityModel.id == HoldingModel.security_id
    )


def merged_positions(positions: Sequence[tuple[UUID, ParsedPosition]]) -> list[dict[str, Any]]:
    """One row per (security, held in, long/short): a file listing a position in several
    lines (lots) holds their sum, priced by the first line."""
    merged: dict[PositionKey, dict[str, Any]] = {}
    for security_id, position in positions:
        key = (security_id, position.held_in, position.position_type)
        current = merged.get(key)
        if current is None:
            merged[key] = {
                "security_id": security_id,
                "units": position.units,
                "unit_price": position.unit_price,
                "market_value": position.market_value,
                "price_as_of": position.price_as_of,
                "position_type": position.position_type.value,
                "held_in": position.held_in.value,
                "cost_basis": position.cost_basis,
            }
            continue
        current["units"] += position.units
        current["market_value"] += position.market_value
        # A cost basis is only meaningful for the whole position: unknown for one lot, unknown.
        known = current["cost_basis"] is not None and position.cost_basis is not None
        current["cost_basis"] = current["cost_basis"] + position.cost_basis if known else None
    return list(merged.values())


def value_points(
    positions: dict[datetime, Decimal | None], cash: dict[datetime, Decimal | None]
) -> list[ValuePoint]:
    """Cash plus positions at every time either was stated, oldest first."""
    return [
        ValuePoint(
            as_of=moment,
            cash=cash.get(moment) or ZERO,
            positions=positions.get(moment) or ZERO,
        )
        for moment in sorted(positions.keys() | cash.keys())
    ]
