"""SQLAlchemy adapter of the ``SecurityRepository`` port: securities shared by every user."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.ids import new_id
from dashtam.core.result import Result, Success
from dashtam.domain.imports.investments import ParsedSecurity
from dashtam.domain.investments.entities import Security, SecurityId
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.investments import SecurityModel
from dashtam.infrastructure.persistence.repositories.dialect import insert_for

_DESCRIBED = ("name", "ticker", "kind", "currency")
_TABLE = cast(Table, SecurityModel.__table__)

# A plain UPDATE, not the ORM's versioned one: imports by different users that name the same
# security must both succeed. The newest-wins rule is in the WHERE, so a concurrent import of
# a newer file is never overwritten by this one's older description.
_RENAME = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("b_id"),
        or_(_TABLE.c.info_as_of.is_(None), _TABLE.c.info_as_of <= bindparam("b_as_of")),
    )
    .values(
        **{name: bindparam(f"b_{name}") for name in _DESCRIBED},
        info_as_of=bindparam("b_as_of"),
        updated_at=bindparam("b_now"),
        version=_TABLE.c.version + 1,
    )
)


class SqlSecurityRepository:
    """Upserts in bulk by (unique id type, unique id); never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def upsert(
        self, securities: Sequence[ParsedSecurity], *, as_of: datetime | None
    ) -> Result[Mapping[SecurityId, UUID], Error]:
        if not securities:
            return Success({})
        # A file may describe a security twice: its last description wins.
        incoming = {item.security_id: item for item in securities}
        stored = await self._stored(list(incoming))
        now = utcnow()
        if as_of is not None:
            changed = [
                {
                    "b_id": row.id,
                    **{f"b_{k}": v for k, v in described(item, row.ticker, row.currency).items()},
                    "b_as_of": as_of,
                    "b_now": now,
                }
                for key, item in incoming.items()
                if (row := stored.get(key)) is not None and renames(row, item, as_of)
            ]
            if changed:
                await self._session.execute(_RENAME, changed)
        missing = [_row(item, as_of, now) for key, item in incoming.items() if key not in stored]
        if missing:
            # Another import may create the same security meanwhile: theirs is kept.
            await self._session.execute(
                insert_for(self._session)(SecurityModel).on_conflict_do_nothing(
                    index_elements=["unique_id_type", "unique_id"]
                ),
                missing,
            )
            stored = await self._stored(list(incoming))
        return Success({key: stored[key].id for key in incoming})

    @classified
    async def get(self, security_id: UUID) -> Result[Security | None, Error]:
        row = await self._session.get(SecurityModel, security_id)
        return Success(row.to_entity() if row is not None else None)

    async def _stored(self, keys: list[SecurityId]) -> dict[SecurityId, Any]:
        rows = await self._session.execute(
            select(
                SecurityModel.id,
                SecurityModel.unique_id_type,
                SecurityModel.unique_id,
                SecurityModel.info_as_of,
                SecurityModel.version,
                *(getattr(SecurityModel, name) for name in _DESCRIBED),
            ).where(
                tuple_(SecurityModel.unique_id_type, SecurityModel.unique_id).in_(
                    [(key.unique_id_type, key.unique_id) for key in keys]
                )
            )
        )
        return {SecurityId(row.unique_id, row.unique_id_type): row for row in rows.all()}


def described(item: ParsedSecurity, ticker: str | None, currency: str | None) -> dict[str, object]:
    """The columns a description sets; a ticker or currency it leaves out stays as stored."""
    return {
        "name": item.name[:255],
        "ticker": (item.ticker[:32] if item.ticker else None) or ticker,
        "kind": item.kind.value,
        "currency": item.currency or currency,
    }


def renames(row: Any, item: ParsedSecurity, as_of: datetime) -> bool:
    """A description at least as new as the stored one, that says something else."""
    if row.info_as_of is not None and row.info_as_of > as_of:
        return False
    current = {name: getattr(row, name) for name in _DESCRIBED}
    return current != described(item, row.ticker, row.currency) or row.info_as_of != as_of


def _row(item: ParsedSecurity, as_of: datetime | None, now: datetime) -> dict[str, object]:
    return {
        "id": new_id(),
        "unique_id_type": item.security_id.unique_id_type,
        "unique_id": item.security_id.unique_id,
        **described(item, None, None),
        "info_as_of": as_of,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
