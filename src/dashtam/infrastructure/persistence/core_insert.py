"""Rows given as column values, inserted through Core: no ORM instance and no unit-of-work
bookkeeping for rows that are written once and never read back in the same session (audit
records, outbox events, a new user)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dashtam.infrastructure.persistence.base import Base

# A model and the values of its new rows, by column name; every row names the same columns
# (one executemany per model: SQLAlchemy fills a left-out column's default, the same for all).
RowBatch = tuple[type[Base], Sequence[Mapping[str, Any]]]


def insert_values_sync(session: Session, batches: Iterable[RowBatch]) -> None:
    """One INSERT per model, all of its rows in one round trip."""
    connection = session.connection()  # Core's own path: none of the ORM's statement plumbing
    for model, values in batches:
        if values:
            connection.execute(_insert_into(model), list(values))


@cache
def _insert_into(model: type[Base]) -> Insert:
    # The table, not the class: an ORM-enabled insert would take attribute names.
    return insert(cast(Table, model.__table__))


async def insert_values(session: AsyncSession, batches: Iterable[RowBatch]) -> None:
    await session.run_sync(insert_values_sync, list(batches))
