"""Rows built as ORM models, inserted through Core: no unit-of-work bookkeeping for rows that
are written once and never read back in the same session (audit records, outbox events)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dashtam.infrastructure.persistence.base import Base


@cache
def _columns_of(model: type[Base]) -> tuple[tuple[str, str], ...]:
    """(attribute name, column key) of every mapped column of ``model``."""
    return tuple((prop.key, prop.columns[0].key) for prop in inspect(model).column_attrs)


def column_values(row: Base) -> dict[str, Any]:
    """The values set on ``row``, by column key; a column left unset gets its default."""
    state = row.__dict__
    return {
        column: state[attribute]
        for attribute, column in _columns_of(type(row))
        if attribute in state
    }


def insert_rows_sync(session: Session, rows: Sequence[Base]) -> None:
    """One INSERT per model and set of columns, all rows of it in one round trip."""
    batches: dict[tuple[type[Base], frozenset[str]], list[dict[str, Any]]] = {}
    for row in rows:
        values = column_values(row)
        batches.setdefault((type(row), frozenset(values)), []).append(values)
    connection = session.connection()  # Core's own path: none of the ORM's statement plumbing
    for (model, _keys), values_list in batches.items():
        # The table, not the class: an ORM-enabled insert would take attribute names.
        connection.execute(_insert_into(model), values_list)


@cache
def _insert_into(model: type[Base]) -> Insert:
    return insert(cast(Table, model.__table__))


async def insert_rows(session: AsyncSession, rows: Sequence[Base]) -> None:
    await session.run_sync(insert_rows_sync, rows)
