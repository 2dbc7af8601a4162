"""One read session per request on PostgreSQL, shared by the request's read units of work.

An authenticated GET reads twice: the caller's session and user, then what it asked for. With
a session each, that is two sessions, two pool checkouts and returns, two closes (about a tenth
of a one-row read). On PostgreSQL a read connection is autocommit, every statement its own
snapshot, so whether two reads share a connection changes nothing either of them sees. On
SQLite a read is a transaction (a WAL snapshot): not shared there.

The scope belongs to the task that opened it (a task it starts, or one that outlives it, reads
on its own sessions), lends its session to one unit of work at a time, drops it when a read
failed on it, and hands the connection back to the pool when it ends, or before the read audit
log makes a request wait for room (``release_shared_reads``): waiting must not hold one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dashtam.infrastructure.persistence.database import Database


class _SharedReads:
    def __init__(self, database: Database, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.database = database
        self.sessions = sessions
        self.owner = asyncio.current_task()
        self.session: AsyncSession | None = None
        self.lent = False
        self.open = True

    def lends_to(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        return (
            self.open
            and not self.lent
            and sessions is self.sessions
            and asyncio.current_task() is self.owner
        )

    def lend(self) -> AsyncSession:
        if self.session is None:
            self.session = self.sessions()
        self.lent = True
        return self.session

    async def give_back(self, *, spoiled: bool) -> None:
        self.lent = False
        if spoiled:
            await self.release()
        elif self.session is not None and (loaded := self.session.sync_session).identity_map:
            # The next read starts as on a session of its own: nothing another one loaded is
            # served to it from the identity map instead of from the database. (The hot reads
            # load Core rows, which leave the map empty: nothing to clear.)
            loaded.expunge_all()

    async def release(self) -> None:
        session, self.session = self.session, None
        if session is not None:
            await self.database.close_quietly(session)


_CURRENT: ContextVar[_SharedReads | None] = ContextVar("dashtam_shared_reads", default=None)


@asynccontextmanager
async def shared_reads(
    database: Database, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[None]:
    """Within the block, this task's read units of work on ``sessions`` share one session."""
    if database.is_sqlite:
        yield
        return
    scope = _SharedReads(database, sessions)
    token = _CURRENT.set(scope)
    try:
        yield
    finally:
        _CURRENT.reset(token)
        scope.open = False
        await scope.release()


def lend_shared_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession | None:
    """The scope's session for a unit of work reading through ``sessions``, if it may share."""
    scope = _CURRENT.get()
    if scope is None or not scope.lends_to(sessions):
        return None
    return scope.lend()


async def give_back_shared_session(session: AsyncSession, *, spoiled: bool) -> bool:
    """Whether ``session`` was the scope's (kept for the next read unless ``spoiled``)."""
    scope = _CURRENT.get()
    if scope is None or scope.session is not session or not scope.lent:
        return False
    await scope.give_back(spoiled=spoiled)
    return True


async def release_shared_reads() -> None:
    """Hand the scope's connection back to the pool now (no unit of work may be using it)."""
    scope = _CURRENT.get()
    if scope is not None and not scope.lent and asyncio.current_task() is scope.owner:
        await scope.release()
