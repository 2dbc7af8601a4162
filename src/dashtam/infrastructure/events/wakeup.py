"""Relays woken by PostgreSQL when events are committed (``LISTEN dashtam_outbox``).

Migration 0013 makes every insert into the outbox send a notification, delivered at commit.
A relay that listens drains at once instead of at its next poll; polling stays the fallback
(SQLite has no notifications; a listening connection can be lost and is dialled again).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.persistence.database import Database

CHANNEL = "dashtam_outbox"
REDIAL_AFTER_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 5.0


class OutboxWakeup:
    """Set when PostgreSQL announced committed events since the last ``arm``."""

    def __init__(self, database: Database, logger: LoggerProtocol) -> None:
        self._dsn = database.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._logger = logger
        self._connection: Any = None  # an asyncpg connection (the driver has no types)
        self._notified = asyncio.Event()
        self._next_dial = 0.0

    def arm(self) -> None:
        """Forget earlier notifications: the drain that follows sees those events."""
        self._notified.clear()

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until a notification, ``stop`` or ``seconds`` passed, whichever comes first."""
        await self._ensure_listening()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._notified.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _ensure_listening(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            return
        if time.monotonic() < self._next_dial:
            return  # polling meanwhile
        try:
            connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            await connection.add_listener(CHANNEL, self._on_notification)
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            self._next_dial = time.monotonic() + REDIAL_AFTER_SECONDS
            self._logger.warning("outbox_listen_failed", error_type=type(exc).__name__)
            return
        self._connection = connection
        # Events committed while nobody listened: the next drain looks anyway.
        self._notified.set()

    def _on_notification(self, *_args: Any) -> None:
        self._notified.set()


@asynccontextmanager
async def listening(database: Database, logger: LoggerProtocol) -> AsyncIterator[OutboxWakeup]:
    wakeup = OutboxWakeup(database, logger)
    try:
        yield wakeup
    finally:
        await wakeup.close()
