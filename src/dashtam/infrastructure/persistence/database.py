"""Database: the engines, their pools and the session/transaction lifecycle."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.core.tracing import get_trace_id
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.errors import (
    DB_ERRORS,
    SQLITE_PRIMARY_MASK,
    SQLITE_READONLY,
    DatabaseReadOnlyError,
    StorageFullError,
    classify,
    is_connection_lost,
    sqlite_code_of,
)
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.pool import (
    PING_AFTER_IDLE_SECONDS,
    PoolLimits,
    drop_lost_connection,
    ping_when_idle,
    sqlite_engine_options,
    without_pool,
)
from dashtam.infrastructure.persistence.readiness import ReadinessProbe

# A refused write (read-only, disk full) is remembered this long, so /ready reports it even
# when the cheap probe cannot see it (a full disk only shows when a commit needs a new page).
WRITE_FAULT_MEMORY_SECONDS = 15.0
# Execution option of engines whose transactions only read (see _configure_sqlite).
READ_ONLY_OPTION = "dashtam_read_only"


def mask_url(url: str | URL) -> str:
    """The URL with its password hidden, safe for logs (even when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"


class Database:
    """Owns the engines; hands out sessions that commit, roll back and close correctly.

    On PostgreSQL reads have an engine (and a pool of ``pool_size``) of their own, whose
    connections are read-only and autocommit; on SQLite they share the file's one pool.
    """

    def __init__(
        self,
        database_url: str,
        *,
        logger: LoggerProtocol | None = None,
        echo: bool = False,
        pool_size: int = 20,
        max_overflow: int = 0,
        sqlite_busy_timeout_ms: int = 5000,
        connect_timeout: float = 5.0,
        pool_timeout: float = 5.0,
        statement_timeout: float = 30.0,
        command_timeout: float = 35.0,
        idle_in_transaction_timeout: float = 60.0,
        tcp_keepalives_idle: int = 30,
        ready_timeout: float = 1.5,
    ) -> None:
        self._logger: LoggerProtocol = logger or get_logger("dashtam.database")
        self.url = make_url(database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self._write_fault: tuple[Error, float] | None = None
        limits = PoolLimits(
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
            command_timeout=command_timeout,
            idle_in_transaction_timeout=idle_in_transaction_timeout,
            tcp_keepalives_idle=tcp_keepalives_idle,
        )
        engine_kwargs = (
            sqlite_engine_options(echo, sqlite_busy_timeout_ms, pool_size, pool_timeout)
            if self.is_sqlite
            else limits.engine_options(echo)
        )
        self.engine: AsyncEngine = create_async_engine(self.url, **engine_kwargs)
        event.listen(self.engine.sync_engine, "handle_error", self._on_error)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms=sqlite_busy_timeout_ms)
            # One file, one pool: a read is a deferred transaction (a WAL snapshot).
            self.read_engine = self.engine.execution_options(**{READ_ONLY_OPTION: True})
        else:
            self.read_engine = create_async_engine(
                self.url, **limits.engine_options(echo, read_only=True)
            )
            event.listen(self.read_engine.sync_engine, "handle_error", self._on_error)
            for engine in (self.engine, self.read_engine):
                event.listen(engine.sync_engine.pool, "invalidate", drop_lost_connection)
                ping_when_idle(engine, idle_seconds=PING_AFTER_IDLE_SECONDS)
        self._probe = self._readiness_probe(engine_kwargs, ready_timeout)
        self.session_factory = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        self._logger.info(
            "database_configured",
            database_url=mask_url(self.url),
            backend=self.url.get_backend_name(),
            **limits.described(is_sqlite=self.is_sqlite),
        )

    def _readiness_probe(self, engine_kwargs: dict[str, Any], timeout: float) -> ReadinessProbe:
        # PostgreSQL: a pool-less twin, so /ready sees what a new connection meets (refused,
        # read-only) even while the pool is busy; SQLite has no pool to bypass.
        probe_engine = (
            self.engine
            if self.is_sqlite
            else create_async_engine(self.url, poolclass=NullPool, **without_pool(engine_kwargs))
        )
        return ReadinessProbe(
            probe_engine,
            owned=probe_engine is not self.engine,
            timeout=timeout,
            recent_write_fault=self.recent_write_fault,
        )

    def _on_error(self, context: ExceptionContext) -> None:
        """Every failed statement or commit passes here: drop lost connections, note refusals."""
        exc = context.original_exception
        if is_connection_lost(exc):
            # Without this a timed-out or reset connection goes back to the pool and the next
            # request (or this one's rollback) waits on it again.
            context.is_disconnect = True
        error = classify(exc)
        if isinstance(error, DatabaseReadOnlyError | StorageFullError):
            self._write_fault = (error, time.monotonic())

    def recent_write_fault(self) -> Error | None:
        """The classified cause of the last refused write, if it happened a moment ago."""
        fault = self._write_fault
        if fault is None or time.monotonic() - fault[1] > WRITE_FAULT_MEMORY_SECONDS:
            return None
        return fault[0]

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def get_session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success, rolls back on exception and always closes."""
        trace_id = get_trace_id()
        self._logger.debug("db_session_opened", trace_id=trace_id)
        session = self.session_factory()
        try:
            yield session
            await session.commit()
            self._logger.debug("db_session_committed", trace_id=trace_id)
        except BaseException as exc:
            await self.rollback_quietly(session)
            self._logger.debug(
                "db_session_rolled_back", trace_id=trace_id, error_type=type(exc).__name__
            )
            raise
        finally:
            await self.close_quietly(session)
            self._logger.debug("db_session_closed", trace_id=trace_id)

    async def rollback_quietly(self, session: AsyncSession) -> None:
        """Roll back; on a dead connection log the classified cause and drop the connection.

        Called on failure paths, where the error that matters is already on its way: a
        rollback that cannot reach the server must not replace it.
        """
        if not session.in_transaction():
            return  # committed, rolled back or never begun: a hop into the greenlet for nothing
        await self._quietly(session, session.rollback, "db_rollback_failed")

    async def analyze_quietly(self, session: AsyncSession, tables: Sequence[str]) -> None:
        """Refresh the planner's statistics of ``tables`` (PostgreSQL), in a transaction of
        ``session`` after its work committed; best effort: a failure is logged, not raised."""

        async def analyze() -> None:
            for name in tables:
                await session.execute(text(f'ANALYZE "{name}"'))
            await session.commit()

        await self._quietly(session, analyze, "db_analyze_failed")

    async def close_quietly(self, session: AsyncSession) -> None:
        """Close (returning the connection to the pool); a dead connection is dropped instead."""
        if not session.in_transaction():
            # A session holds a connection only inside a transaction: with none open, closing
            # is bookkeeping that does no I/O, so it needs no hop into SQLAlchemy's greenlet
            # (after every commit, the common case).
            session.sync_session.close()
            return
        await self._quietly(session, session.close, "db_close_failed")

    async def _quietly(
        self, session: AsyncSession, step: Callable[[], Awaitable[None]], event_name: str
    ) -> None:
        try:
            await step()
        except DB_ERRORS as exc:
            self._log_lost(event_name, exc)
            with contextlib.suppress(*DB_ERRORS):
                await session.invalidate()

    def _log_lost(self, event_name: str, exc: BaseException) -> None:
        self._logger.warning(
            event_name,
            code=classify(exc).code,
            error_type=type(exc).__name__,
            trace_id=get_trace_id(),
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """An explicit transaction: everything in the block commits together or not at all."""
        async with self.get_session() as session:
            trace_id = get_trace_id()
            self._logger.debug("db_transaction_begin", trace_id=trace_id)
            async with session.begin():
                yield session
            self._logger.debug("db_transaction_end", trace_id=trace_id)

    async def check_connection(self) -> bool:
        """True when a round trip to the database succeeds."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            error = classify(exc)
            self._logger.warning("db_check_failed", code=error.code, error_type=type(exc).__name__)
            return False
        return True

    async def schema_status(self) -> tuple[str | None, str | None]:
        """(the database's migration revision, the newest one shipped); equal when current."""
        from dashtam.infrastructure.persistence import migrator

        async with self.engine.connect() as connection:
            current = await connection.run_sync(migrator.schema_revision)
        return current, migrator.head_revision()

    async def readiness(self) -> Result[str | None, Error]:
        """Whether writes can succeed now (Success: the schema revision); within ready_timeout."""
        return await self._probe.check()

    async def close(self) -> None:
        """Dispose of the pool; the object must not be used afterwards."""
        await self._probe.close()
        if not self.is_sqlite:
            await self.read_engine.dispose()
        await self.engine.dispose()
        self._logger.info("database_closed", database_url=mask_url(self.url))


def _fold(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    """WAL, enforced foreign keys, a busy timeout, and transactions we control.

    pysqlite's own transaction handling starts transactions lazily and never for SAVEPOINT;
    we turn it off and issue ``BEGIN IMMEDIATE`` ourselves, which takes the write lock up
    front: a read that later writes can then never fail with SQLITE_BUSY on lock upgrade.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            # The mode the file is in now (a memory database stays "memory").
            dbapi_connection.wal = str(cursor.fetchone()[0]).lower() == "wal"
        except sqlite3.Error as exc:  # the driver's own cursor: no SQLAlchemy wrapper here
            # A read-only file cannot switch to WAL but can still be read: let reads work
            # and writes fail, classified, when they come.
            code = sqlite_code_of(exc)
            if code is None or code & SQLITE_PRIMARY_MASK != SQLITE_READONLY:
                raise
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's lower() folds ASCII only; text search needs Unicode folding like PostgreSQL.
        dbapi_connection.create_function("dashtam_fold", 1, _fold, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A read-only transaction (READ_ONLY_OPTION) begins deferred: it never takes the write
        # lock, so readers never queue behind a writer (WAL gives them a snapshot).
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        if read_only:
            connection.connection.dbapi_connection.begin_reading_on_loop()
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")
