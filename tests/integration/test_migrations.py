"""Migrations: the same files build, tear down and rebuild the schema on both backends."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import Connection, inspect
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


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrator.alembic_config("sqlite://"))
    assert migrator.head_revision() == scripts.get_current_head()


async def test_the_schema_revision_is_what_alembic_reads(empty_database_url: str) -> None:
    from alembic.runtime.migration import MigrationContext

    def both(connection: Connection) -> tuple[str | None, str | None]:
        alembic_reading = MigrationContext.configure(connection).get_current_revision()
        return migrator.schema_revision(connection), alembic_reading

    engine = create_async_engine(empty_database_url)
    try:
        for revision in (None, "0003_financial_data", "head"):
            if revision is not None:
                migrator.upgrade(empty_database_url, revision)
            async with engine.connect() as connection:
                ours, theirs = await connection.run_sync(both)
            assert ours == theirs
            assert ours == (migrator.head_revision() if revision == "head" else revision)
    finally:
        await engine.dispose()


def test_a_cli_process_that_does_not_migrate_never_imports_alembic() -> None:
    # What keeps every command's start-up ~0.2 s shorter; the head check above stands in.
    probe = "import sys, dashtam.presentation.cli.main as m, dashtam.bootstrap; "
    probe += "print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
