"""Readiness: can this process write to its database right now, answered in bounded time."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.infrastructure.errors import (
    SQLITE_BUSY,
    SQLITE_LOCKED,
    SQLITE_PRIMARY_MASK,
    DatabaseReadOnlyError,
    DatabaseUnavailableError,
    SchemaNotCurrentError,
    StorageFullError,
    sqlite_code_of,
)
from dashtam.infrastructure.persistence.boundary import classified

# The probe waits this long for SQLite's write lock: a writer holding it proves writes work.
_PROBE_BUSY_TIMEOUT_MS = 100
# Below this much free disk a SQLite database is about to refuse writes (WAL and checkpoints).
MIN_FREE_DISK_BYTES = 1024 * 1024


class ReadinessProbe:
    """One probe in flight at a time; callers wait for it at most ``timeout`` seconds.

    The probe itself is never cancelled (a cancelled SQLAlchemy call can leave a connection
    half-used): when it outlives the caller's patience it finishes in the background, bounded
    by the driver's own connect and command timeouts, and the next caller joins it.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        owned: bool,
        timeout: float,
        recent_write_fault: Callable[[], Error | None],
    ) -> None:
        self._engine = engine
        self._owned = owned
        self._timeout = timeout
        self._recent_write_fault = recent_write_fault
        self._task: asyncio.Task[Result[str | None, Error]] | None = None

    async def check(self) -> Result[str | None, Error]:
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            task = self._task = asyncio.create_task(self._probe())
            task.add_done_callback(_consume_exception)
        try:
            async with asyncio.timeout(self._timeout):
                return await asyncio.shield(task)
        except TimeoutError:
            return Failure(
                DatabaseUnavailableError("the database did not answer in time", retryable=True)
            )

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._owned:
            await self._engine.dispose()

    async def _probe(self) -> Result[str | None, Error]:
        from dashtam.infrastructure.persistence import migrator

        probed = await _schema_revision_if_writable(self._engine)
        if isinstance(probed, Failure):
            return Failure(_unavailable(probed.error))
        current = probed.value
        head = migrator.head_revision()
        if current != head:
            return Failure(SchemaNotCurrentError("the database needs 'dashtam db upgrade'"))
        fault = self._recent_write_fault()
        if fault is not None:
            return Failure(fault)
        return Success(head)


@classified
async def _schema_revision_if_writable(engine: AsyncEngine) -> Result[str | None, Error]:
    """The schema revision, unless the database refuses writes (a typed refusal then)."""
    from dashtam.infrastructure.persistence import migrator

    async with engine.connect() as connection:
        refusal = await _write_refusal(connection)
        if refusal is not None:
            # Already the specific kind (read-only, full): _unavailable keeps it.
            return Failure(refusal)
        revision: str | None = await connection.run_sync(migrator.schema_revision)
        return Success(revision)


async def _write_refusal(connection: AsyncConnection) -> Error | None:
    if connection.dialect.name == "sqlite":
        return await connection.run_sync(_sqlite_write_refusal)
    row = (
        await connection.execute(
            text("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")
        )
    ).one()
    in_recovery, read_only = row
    if in_recovery or read_only == "on":
        return DatabaseReadOnlyError("the database accepts no writes (standby or read-only)")
    return None


def _sqlite_write_refusal(connection: Connection) -> Error | None:
    """A write that is rolled back (refused on a read-only file), then the room left to grow."""
    driver: Any = connection.connection.dbapi_connection
    cursor = driver.cursor()
    try:
        # Straight on the driver: SQLAlchemy's BEGIN would wait the full busy timeout.
        cursor.execute(f"PRAGMA busy_timeout={_PROBE_BUSY_TIMEOUT_MS}")
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:  # the driver's own cursor: no SQLAlchemy wrapper here
            code = sqlite_code_of(exc)
            if code is not None and code & SQLITE_PRIMARY_MASK in (SQLITE_BUSY, SQLITE_LOCKED):
                return None
            raise
        try:
            cursor.execute("CREATE TABLE dashtam_ready_probe (x INTEGER)")
        finally:
            cursor.execute("ROLLBACK")
        cursor.execute("PRAGMA page_count")
        page_count = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA max_page_count")
        max_page_count = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA freelist_count")
        free_pages = int(cursor.fetchone()[0])
    finally:
        cursor.close()
    if page_count >= max_page_count and free_pages == 0:
        return StorageFullError("the database reached its maximum size")
    database = connection.engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).resolve().parent
        if shutil.disk_usage(folder).free < MIN_FREE_DISK_BYTES:
            return StorageFullError("the database disk is full")
    return None


def _unavailable(error: Error) -> Error:
    """Any failure to probe means "not ready"; keep the specific kind when there is one."""
    if isinstance(error, DatabaseUnavailableError):
        return error
    return DatabaseUnavailableError("the database is not usable", retryable=True)


def _consume_exception(task: asyncio.Task[Result[str | None, Error]]) -> None:
    # A probe nobody waits for any more must not log "exception was never retrieved".
    if not task.cancelled():
        task.exception()
