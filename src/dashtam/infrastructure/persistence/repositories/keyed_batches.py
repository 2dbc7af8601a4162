"""Writing a batch keyed by the provider's id, once for bank and investment transactions alike.

New keys are inserted (``INSERT ... ON CONFLICT DO NOTHING``: a row another import inserted
meanwhile is skipped, never duplicated), stored rows whose compared values differ are updated
by primary key in one executemany, and a stored row written by a newer statement than the
batch's is left as it is (``outdated``): the bank's later correction stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.transactions.repository import UpsertCounts
from dashtam.infrastructure.persistence.repositories.dialect import insert_new

Item = TypeVar("Item")
# The compared columns of an item, in the order of ``compared``, as the row would hold them.
Values = Callable[[Item], tuple[object, ...]]


def is_newer(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and stored > incoming


async def write_keyed_batch(
    session: AsyncSession,
    model: Any,
    *,
    incoming: Mapping[str, Item],
    stored: Mapping[str, Any],
    compared: tuple[str, ...],
    values: Values[Item],
    fixed: Mapping[str, object],
    statement_as_of: datetime | None,
    written: set[str] | None = None,
) -> UpsertCounts:
    """``incoming`` by provider id; ``stored`` the rows already there with those ids (their
    ``id``, ``statement_as_of`` and ``compared`` columns); ``fixed`` the columns every new row
    shares (account, currency); ``written`` receives the provider ids inserted or updated."""
    now = utcnow()
    new_rows = [
        {
            "id": new_id(),
            "provider_transaction_id": key,
            **fixed,
            "statement_as_of": statement_as_of,
            "created_at": now,
            "updated_at": now,
            **dict(zip(compared, values(item), strict=True)),
        }
        for key, item in incoming.items()
        if key not in stored
    ]
    outdated = sum(1 for row in stored.values() if is_newer(row.statement_as_of, statement_as_of))
    # Compared as tuples of the same columns in the same order: a re-import compares every
    # row of the file, and most are unchanged.
    stored_values = attrgetter(*compared)
    differing = [
        (key, row, fresh)
        for key, item in incoming.items()
        if (row := stored.get(key)) is not None
        and not is_newer(row.statement_as_of, statement_as_of)
        and stored_values(row) != (fresh := values(item))
    ]
    changed = [
        {
            "id": row.id,
            **dict(zip(compared, fresh, strict=True)),
            "statement_as_of": statement_as_of or row.statement_as_of,
            "updated_at": now,
        }
        for _, row, fresh in differing
    ]
    inserted = await insert_new(
        session, model, new_rows, key=("account_id", "provider_transaction_id")
    )
    if changed:
        await session.execute(update(model).execution_options(synchronize_session=False), changed)
    if written is not None:
        written.update(key for key in incoming if key not in stored)
        written.update(key for key, _, _ in differing)
    unchanged = len(incoming) - len(new_rows) - len(changed) - outdated
    return UpsertCounts(
        new=inserted,
        updated=len(changed),
        unchanged=unchanged + len(new_rows) - inserted,
        outdated=outdated,
    )
