"""Batches of new rows through Core: what goes in is what comes back, on both databases, and on
SQLite a batch is a few multi-row INSERTs rather than one statement per row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashtam.core.ids import new_id
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.persistence import core_insert
from dashtam.infrastructure.persistence.core_insert import (
    SQLITE_ROWS_PER_STATEMENT,
    insert_values,
)
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.audit_keys import signer_for_tests
from tests.integration.helpers import statements_sent


def _entries(count: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            action=AuditAction.FINANCIAL_DATA_READ,
            outcome=AuditOutcome.SUCCEEDED,
            resource_type=ResourceType.ACCOUNT,
            resource_id=new_id(),
            actor_id=new_id() if index % 3 else None,
            ip_address="203.0.113.9" if index % 2 else None,
            user_agent=f"agent/{index} 'quoted' \u2713 \u00e9",
            trace_id=f"trace-{index}",
            metadata={
                "n": index,
                "at": datetime(2026, 1, 2, 3, 4, 5, index, tzinfo=UTC),
                "amount": Decimal(f"{index}.50"),
                "nested": {"list": [index, None]},
            },
        )
        for index in range(count)
    ]


# (rows, INSERTs on SQLite): 7 = 4 + 2 + 1 rows; 301 = 256 + 32 + 8 + 4 + 1.
@pytest.mark.parametrize(
    ("count", "statements_on_sqlite"),
    [(1, 1), (2, 1), (7, 3), (SQLITE_ROWS_PER_STATEMENT + 45, 5)],
)
async def test_a_batch_comes_back_as_it_went_in(
    database: Database, count: int, statements_on_sqlite: int
) -> None:
    signer = signer_for_tests()
    entries = _entries(count)
    with statements_sent(database, "INSERT") as sent:
        async with database.transaction() as session:
            await insert_values(session, [(AuditLogModel, [signer.values(e) for e in entries])])

    async with database.get_session() as session:
        stored = (await session.scalars(select(AuditLogModel))).all()
    by_id = {row.id: row for row in stored}
    assert set(by_id) == {entry.id for entry in entries}
    for entry in entries:
        row = by_id[entry.id]
        # The MAC covers every column: each value came back exactly as signed.
        assert signer.check(row), entry.trace_id
        assert (row.trace_id, row.user_agent, row.actor_id) == (
            entry.trace_id,
            entry.user_agent,
            entry.actor_id,
        )
    if database.is_sqlite:
        assert len(sent) == statements_on_sqlite, sent
    else:
        assert len(sent) == 1, sent  # one executemany (asyncpg pipelines its rows)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_older_sqlite_limit_of_999_values_is_kept(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite before 3.32 refuses a statement binding more than 999 values.
    monkeypatch.setattr(core_insert, "_SQLITE_MAX_VARIABLES", 999)
    signer = signer_for_tests()
    entries = _entries(SQLITE_ROWS_PER_STATEMENT)
    with statements_sent(database, "INSERT") as sent:
        async with database.transaction() as session:
            await insert_values(session, [(AuditLogModel, [signer.values(e) for e in entries])])

    bound = [statement.count("?") for statement, _ in sent]
    assert sum(bound) == SQLITE_ROWS_PER_STATEMENT * len(signer.values(entries[0]))
    assert max(bound) <= 999
    assert len(sent) > 1
    async with database.get_session() as session:
        stored = (await session.scalars(select(AuditLogModel))).all()
    assert {row.id for row in stored} == {entry.id for entry in entries}
