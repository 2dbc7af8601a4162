"""Upgrading a trail written before MACs existed: its records stay verifiable (legacy seals)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import text

from dashtam.core.ids import new_id
from dashtam.infrastructure.audit.signing import GENESIS_HASH, legacy_seal_hash
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database
from tests.audit_keys import chain_for_tests, record_entries


def _as_sql(database: Database, value: UUID) -> str:
    return value.hex if database.is_sqlite else str(value)


async def _old_record(database: Database, when: datetime, n: int) -> dict[str, object]:
    """A record as release 0004 wrote it (no MAC), and its document as 0004 sealed it."""
    record_id = new_id()
    async with database.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO audit_logs (id, created_at, action, outcome, resource_type, metadata) "
                "VALUES (:id, :at, 'user.registered', 'succeeded', 'user', :metadata)"
            ),
            {
                "id": _as_sql(database, record_id),
                "at": when.replace(tzinfo=None) if database.is_sqlite else when,
                "metadata": json.dumps({"n": n}),
            },
        )
    return {
        "id": str(record_id),
        "created_at": when.isoformat(timespec="microseconds"),
        "actor_id": None,
        "action": "user.registered",
        "outcome": "succeeded",
        "resource_type": "user",
        "resource_id": None,
        "ip_address": None,
        "user_agent": None,
        "trace_id": None,
        "reason": None,
        "metadata": {"n": n},
    }


async def test_records_of_the_unkeyed_chain_survive_the_upgrade(empty_database_url: str) -> None:
    migrator.upgrade(empty_database_url, "0004_audit_chain")
    database = Database(empty_database_url)
    try:
        first = await _old_record(database, datetime(2026, 11, 1, 12, 0, tzinfo=UTC), 1)
        # The old sealer had sealed the first record; the other two were still pending.
        async with database.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO audit_seals (id, created_at, audit_id, seq, prev_hash, hash) "
                    "VALUES (:id, CURRENT_TIMESTAMP, :audit_id, 1, :prev, :hash)"
                ),
                {
                    "id": _as_sql(database, new_id()),
                    "audit_id": _as_sql(database, UUID(str(first["id"]))),
                    "prev": GENESIS_HASH,
                    "hash": legacy_seal_hash(GENESIS_HASH, first),
                },
            )
        for n in (2, 3):
            await _old_record(database, datetime(2026, 11, 1, 12, n, tzinfo=UTC), n)
    finally:
        await database.close()

    migrator.upgrade(empty_database_url, "head")

    database = Database(empty_database_url)
    try:
        chain = chain_for_tests(database)
        report = await chain.verify()
        assert (report.sealed, report.legacy, report.unsealed) == (3, 3, 0)
        assert report.intact, report.problems
        # New records are keyed and chain on from the legacy head.
        await record_entries(database, 2)
        assert (await chain.seal_pending()).sealed == 2
        report = await chain.verify()
        assert (report.sealed, report.legacy, report.intact) == (5, 3, True)
    finally:
        await database.close()
