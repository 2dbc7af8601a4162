"""Migrations: the same files build, tear down and rebuild the schema on both backends."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from dashtam.infrastructure.persistence import migrator

EXPECTED_TABLES = {
    "users",
    "audit_logs",
    "event_outbox",
    "event_deliveries",
    "auth_sessions",
    "refresh_tokens",
    "login_attempts",
    "alembic_version",
}


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return names


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    migrator.upgrade(empty_database_url)
    assert await _tables(empty_database_url) >= EXPECTED_TABLES
    assert migrator.head_revision() in migrator.current(empty_database_url)

    migrator.downgrade(empty_database_url, "base")
    assert await _tables(empty_database_url) <= {"alembic_version"}

    migrator.upgrade(empty_database_url)
    assert await _tables(empty_database_url) >= EXPECTED_TABLES


async def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    assert migrator.check(database_url) is None


async def test_history_lists_the_foundation(database_url: str) -> None:
    history = migrator.history(database_url)
    assert "0001_foundation" in history
    assert "0002_identity" in history
