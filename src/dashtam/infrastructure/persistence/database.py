"""Database: the engine, its pool and the session/transaction lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from dashtam.core.tracing import get_trace_id
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.errors import classify
from dashtam.infrastructure.logging.setup import get_logger


def mask_url(url: str | URL) -> str:
    """The URL with its password hidden, safe for logs (even when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"


class Database:
    """Owns one async engine; hands out sessions that commit, roll back and close correctly."""

    def __init__(
        self,
        database_url: str,
        *,
        logger: LoggerProtocol | None = None,
        echo: bool = False,
        pool_size: int = 20,
        max_overflow: int = 0,
        sqlite_busy_timeout_ms: int = 5000,
    ) -> None:
        self._logger: LoggerProtocol = logger or get_logger("dashtam.database")
        self.url = make_url(database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        engine_kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
        if self.is_sqlite:
            # SQLite connections are cheap and file locks do the sharing: no pool to size.
            engine_kwargs["poolclass"] = NullPool
            engine_kwargs["connect_args"] = {"timeout": sqlite_busy_timeout_ms / 1000}
        else:
            engine_kwargs["pool_size"] = pool_size
            engine_kwargs["max_overflow"] = max_overflow
        self.engine: AsyncEngine = create_async_engine(self.url, **engine_kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms=sqlite_busy_timeout_ms)
        self.session_factory = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
        )
        self._logger.info(
            "database_configured",
            database_url=mask_url(self.url),
            backend=self.url.get_backend_name(),
            pool_size=None if self.is_sqlite else pool_size,
            max_overflow=None if self.is_sqlite else max_overflow,
        )

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
            await session.rollback()
            self._logger.debug(
                "db_session_rolled_back", trace_id=trace_id, error_type=type(exc).__name__
            )
            raise
        finally:
            await session.close()
            self._logger.debug("db_session_closed", trace_id=trace_id)

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

    async def close(self) -> None:
        """Dispose of the pool; the object must not be used afterwards."""
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
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's lower() folds ASCII only; text search needs Unicode folding like PostgreSQL.
        dbapi_connection.create_function("dashtam_fold", 1, _fold, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
