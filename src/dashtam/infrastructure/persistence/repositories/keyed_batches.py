"""Writing a batch keyed by the provider's id, once for bank and investment transactions alike.

New keys are inserted (``INSERT ... ON CONFLICT DO NOTHING``: a row another import inserted
meanwhile is skipped, never duplicated), stored rows whose compared values differ are updated
by primary key in one executemany, and a stored row written by a newer statement than the
batch's is left as it is (``outdated``): the bank's later correction stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.transactions.repository import UpsertCounts
from dashtam.infrastructure.persistence.repositories.dialect import insert_new, one_of

Item = TypeVar("Item")
# The compared columns of an item, in the order of ``compared``, as the row would hold them.
Values = Callable[[Item], tuple[object, ...]]


def is_newer(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and stored > incoming


class StoredRow(NamedTuple):
    """What a batch needs of a stored row: its key, its version and the compared columns."""

    id: UUID
    statement_as_of: datetime | None
    compared: tuple[object, ...]


async def stored_rows(
    session: AsyncSession, model: Any, compared: tuple[str, ...], account_id: UUID, keys: list[str]
) -> dict[str, StoredRow]:
    """The account's rows with these provider ids, by provider id."""
    # On the table's columns: an ORM attribute would make this an ORM statement, whose result
    # is loaded row by row through the ORM for nothing.
    columns = model.__table__.c
    result = await session.execute(
        select(
            columns.provider_transaction_id,
            columns.id,
            columns.statement_as_of,
            *(columns[name] for name in compared),
        ).where(
            columns.account_id == account_id, one_of(session, columns.provider_transaction_id, keys)
        )
    )
    # By position: a re-import reads every row of the file, and a Row's attributes cost ~30x.
    return {row[0]: StoredRow(row[1], row[2], row[3:]) for row in result.all()}


async def write_keyed_batch(
    session: AsyncSession,
    model: Any,
    *,
    incoming: Mapping[str, Item],
    stored: Mapping[str, StoredRow],
    compared: tuple[str, ...],
    values: Values[Item],
    fixed: Mapping[str, object],
    statement_as_of: datetime | None,
    written: set[str] | None = None,
) -> UpsertCounts:
    """``incoming`` by provider id; ``stored`` the rows already there with those ids (see
    ``stored_rows``); ``fixed`` the columns every new row shares (account, currency);
    ``written`` receives the provider ids inserted or updated."""
    now = utcnow()
    new_keys = [key for key in incoming if key not in stored]
    new_rows = [
        {
            "id": new_id(),
            "provider_transaction_id": key,
            **fixed,
            "statement_as_of": statement_as_of,
            "created_at": now,
            "updated_at": now,
            **dict(zip(compared, values(incoming[key]), strict=True)),
        }
        for key in new_keys
    ]
    outdated = sum(1 for row in stored.values() if is_newer(row.statement_as_of, statement_as_of))
    changed = _changed_rows(incoming, stored, compared, values, statement_as_of, now)
    inserted = await insert_new(
        session, model, new_rows, key=("account_id", "provider_transaction_id")
    )
    if changed:
        await session.execute(
            update(model).execution_options(synchronize_session=False), list(changed.values())
        )
    if written is not None:
        written.update(new_keys)
        written.update(changed)
    unchanged = len(incoming) - len(new_rows) - len(changed) - outdated
    return UpsertCounts(
        new=inserted,
        updated=len(changed),
        unchanged=unchanged + len(new_rows) - inserted,
        outdated=outdated,
    )


def _changed_rows(
    incoming: Mapping[str, Item],
    stored: Mapping[str, StoredRow],
    compared: tuple[str, ...],
    values: Values[Item],
    statement_as_of: datetime | None,
    now: datetime,
) -> dict[str, dict[str, object]]:
    """By provider id, the updates of stored rows whose compared columns differ (an outdated
    row is kept)."""
    # Compared as tuples of the same columns in the same order: a re-import compares every
    # row of the file, and most are unchanged.
    changed: dict[str, dict[str, object]] = {}
    for key, item in incoming.items():
        row = stored.get(key)
        if row is None or is_newer(row.statement_as_of, statement_as_of):
            continue
        fresh = values(item)
        if row.compared != fresh:
            changed[key] = {
                "id": row.id,
                **dict(zip(compared, fresh, strict=True)),
                "statement_as_of": statement_as_of or row.statement_as_of,
                "updated_at": now,
            }
    return changed
