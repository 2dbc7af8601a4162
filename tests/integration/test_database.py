"""The seed's Database contract, on both backends."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from dashtam.core.clock import utcnow
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.errors import classify
from dashtam.infrastructure.persistence.database import Database, mask_url
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.users import UserModel


def _user(email: str) -> UserModel:
    return UserModel.from_entity(User(email=Email(email), password_hash="x"))


async def _count_users(database: Database) -> int:
    async with database.get_session() as session:
        return int(await session.scalar(select(func.count()).select_from(UserModel)) or 0)


async def test_check_connection(database: Database) -> None:
    assert await database.check_connection() is True


async def test_check_connection_false_when_unreachable(backend: str) -> None:
    url = (
        "sqlite+aiosqlite:////nonexistent-dir/x.db"
        if backend == "sqlite"
        else "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    )
    db = Database(url)
    try:
        assert await db.check_connection() is False
    finally:
        await db.close()
        # aiosqlite keeps the worker thread of a failed connect until the connection object is
        # collected, then signals this loop (omnilib/aiosqlite#241): let that happen while the
        # loop is still alive instead of in a later test.
        gc.collect()
        await asyncio.sleep(0.05)


async def test_get_session_commits_on_success(database: Database) -> None:
    async with database.get_session() as session:
        session.add(_user("commit@example.com"))
    assert await _count_users(database) == 1


async def test_get_session_rolls_back_on_exception(database: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with database.get_session() as session:
            session.add(_user("rollback@example.com"))
            await session.flush()
            raise Boom
    assert await _count_users(database) == 0


async def test_transaction_is_atomic_across_two_repositories(database: Database) -> None:
    """A user row and an audit row written in one transaction() vanish together."""

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with database.transaction() as session:
            session.add(_user("atomic@example.com"))
            session.add(
                AuditLogModel(
                    action="user.registered",
                    outcome="succeeded",
                    resource_type="user",
                    details={},
                )
            )
            await session.flush()
            raise Boom
    async with database.get_session() as session:
        assert await session.scalar(select(func.count()).select_from(AuditLogModel)) == 0
    assert await _count_users(database) == 0

    async with database.transaction() as session:
        session.add(_user("atomic@example.com"))
        session.add(
            AuditLogModel(action="user.registered", outcome="succeeded", resource_type="user")
        )
    assert await _count_users(database) == 1


async def test_timestamps_come_back_timezone_aware_utc(database: Database) -> None:
    before = utcnow()
    async with database.get_session() as session:
        session.add(_user("tz@example.com"))
    async with database.get_session() as session:
        row = (await session.scalars(select(UserModel))).one()
        # Server-side defaults too: a raw insert gets CURRENT_TIMESTAMP, read back as UTC.
        await session.execute(
            text(
                "INSERT INTO audit_logs (id, action, outcome, resource_type, metadata) "
                "VALUES (:id, 'x', 'succeeded', 'user', '{}')"
            ),
            {"id": _raw_uuid(database)},
        )
        audit = (await session.scalars(select(AuditLogModel))).one()
    assert row.created_at.tzinfo is not None
    assert row.created_at.utcoffset() == UTC.utcoffset(None)
    assert abs((row.created_at - before).total_seconds()) < 60
    assert audit.created_at.tzinfo is not None
    assert abs((audit.created_at - before).total_seconds()) < 60


def _raw_uuid(database: Database) -> str:
    from dashtam.core.ids import new_id

    value = new_id()
    # SQLAlchemy's Uuid stores 32 hex characters on SQLite and a native uuid on PostgreSQL.
    return value.hex if database.is_sqlite else str(value)


async def test_close_disposes_the_pool(database_url: str) -> None:
    db = Database(database_url)
    assert await db.check_connection()
    pool = db.engine.pool
    await db.close()
    # QueuePool (PostgreSQL) keeps idle connections until disposed; NullPool keeps none.
    assert pool.status().startswith("NullPool") or "Connections in pool: 0" in pool.status()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_pragmas(database: Database) -> None:
    async with database.get_session() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 5000


def test_mask_url_hides_the_password() -> None:
    masked = mask_url("postgresql+asyncpg://app:s3cr3t@db.internal:5432/dashtam")
    assert "s3cr3t" not in masked
    assert "db.internal" in masked


async def test_database_refuses_a_non_canonical_email(database: Database) -> None:
    """Case-insensitive uniqueness holds even for writes that bypass the domain."""
    with pytest.raises(DBAPIError) as caught:
        async with database.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, role, is_active, version) "
                    "VALUES (:id, 'Mixed@Example.com', 'x', 'user', true, 1)"
                ),
                {"id": _raw_uuid(database)},
            )
    assert classify(caught.value).code == "integrity_error"


async def test_unique_violation_is_classified_by_code(database: Database) -> None:
    async with database.get_session() as session:
        session.add(_user("twice@example.com"))
    with pytest.raises(DBAPIError) as caught:
        async with database.get_session() as session:
            session.add(_user("twice@example.com"))
    error = classify(caught.value)
    assert error.code == "duplicate"
