"""A writer holding the database's write lock on audit_logs, from outside the app (no mocks)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url


@asynccontextmanager
async def hold_write_lock(database_url: str) -> AsyncIterator[None]:
    """SQLite: a raw connection in BEGIN IMMEDIATE; PostgreSQL: audit_logs locked against
    INSERT. Reads go on; every write to the audit trail waits until the block ends."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(
            str(url.database), isolation_level=None, timeout=30, check_same_thread=False
        )
        try:
            # In a thread: the app's own background writers (sealer, flusher, relay) run on this
            # event loop and must be able to finish the transaction we may be waiting behind.
            await asyncio.to_thread(connection.execute, "BEGIN IMMEDIATE")
            yield
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    pg = await asyncpg.connect(dsn)
    try:
        transaction = pg.transaction()
        await transaction.start()
        await pg.execute("LOCK TABLE audit_logs IN SHARE ROW EXCLUSIVE MODE")
        yield
        await transaction.rollback()
    finally:
        await pg.close()
