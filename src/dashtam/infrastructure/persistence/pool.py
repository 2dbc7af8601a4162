"""The connection pools: PostgreSQL's limits and liveness checks, SQLite's kept connections."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from dashtam.infrastructure.errors import is_connection_lost
from dashtam.infrastructure.persistence.sqlite_driver import one_trip_dbapi

# A pooled PostgreSQL connection idle at least this long is pinged before use (see
# ping_when_idle); one back in the pool for less is used as it is.
PING_AFTER_IDLE_SECONDS = 2.0
_LAST_USED = "dashtam_last_used"


def asyncpg_connect_args(
    *,
    connect_timeout: float,
    statement_timeout: float,
    command_timeout: float,
    idle_in_transaction_timeout: float,
    tcp_keepalives_idle: int,
    read_only: bool = False,
) -> dict[str, Any]:
    """asyncpg's own bounds (connect, each round trip) and per-session server settings."""
    server_settings = {
        # Server side: a statement, or a transaction left open by a vanished client, ends.
        "statement_timeout": str(int(statement_timeout * 1000)),
        "idle_in_transaction_session_timeout": str(int(idle_in_transaction_timeout * 1000)),
        # asyncpg prepares every statement; after five runs the server may switch to a generic
        # plan chosen without the parameters' values, from statistics of when the table was
        # small. An import's key lookups then scan the whole table for every batch (a
        # measured 250-320 ms instead of a few): plan each execution with its values instead.
        "plan_cache_mode": "force_custom_plan",
    }
    if read_only:
        # Every statement on such a connection is a read-only transaction of its own: a
        # write slipped into a read fails (SQLSTATE 25006) instead of committing.
        server_settings["default_transaction_read_only"] = "on"
    if tcp_keepalives_idle > 0:
        # The server notices a client that vanished without closing its socket.
        server_settings["tcp_keepalives_idle"] = str(tcp_keepalives_idle)
        server_settings["tcp_keepalives_interval"] = str(max(1, tcp_keepalives_idle // 3))
        server_settings["tcp_keepalives_count"] = "3"
    return {
        "timeout": connect_timeout,
        "command_timeout": command_timeout,
        "server_settings": server_settings,
    }


def without_pool(engine_kwargs: dict[str, Any]) -> dict[str, Any]:
    pool_options = {"pool_size", "max_overflow", "pool_timeout", "poolclass"}
    return {key: value for key, value in engine_kwargs.items() if key not in pool_options}


def drop_lost_connection(dbapi_connection: Any, _record: Any, exception: Any) -> None:
    """Abort the socket of a connection invalidated because it was lost.

    SQLAlchemy first tries a graceful close (up to 2 s) which, on a silent network, only
    waits: a lost connection has nobody to say goodbye to.
    """
    if exception is None or not is_connection_lost(exception):
        return
    driver = getattr(dbapi_connection, "driver_connection", None)
    terminate = getattr(driver, "terminate", None)
    if callable(terminate):
        terminate()


def ping_when_idle(engine: AsyncEngine, *, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout only when it sat idle for ``idle_seconds``.

    ``pool_pre_ping`` costs a round trip on every checkout, the busiest path of every
    request. A connection the server closed (a terminated backend, a restart) is known to the
    driver without asking and is replaced; one that came back a moment ago is as alive as a
    ping would show; one that idled (a silent network, a firewall's idle timeout) is pinged,
    and a failed ping makes the pool connect afresh. A connection lost while busy fails its
    statement, which ``_on_error`` marks as a disconnect: the pool drops it and every older one.
    """
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        is_closed = getattr(dbapi_connection.driver_connection, "is_closed", None)
        if callable(is_closed) and is_closed():  # the server hung up (terminated, restarted)
            raise DisconnectionError("a pooled connection was closed by the server")
        last_used = record.info.get(_LAST_USED)
        if last_used is None or time.monotonic() - last_used < idle_seconds:
            return  # new (it just connected) or busy a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("an idle pooled connection did not answer") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolLimits:
    """PostgreSQL's pool and the bounds on its connections (SQLite has neither)."""

    pool_size: int
    max_overflow: int
    pool_timeout: float
    connect_timeout: float
    statement_timeout: float
    command_timeout: float
    idle_in_transaction_timeout: float
    tcp_keepalives_idle: int

    def engine_options(self, echo: bool, *, read_only: bool = False) -> dict[str, Any]:
        """Options of the write engine, or (``read_only``) of the engine reads use: autocommit,
        so a read is its statements alone, without ``BEGIN`` and ``ROLLBACK`` round trips
        (under READ COMMITTED each statement takes its own snapshot either way)."""
        return {
            "echo": echo,
            **({"isolation_level": "AUTOCOMMIT"} if read_only else {}),
            "pool_size": self.pool_size,
            "max_overflow": self.max_overflow,
            "pool_timeout": self.pool_timeout,
            "connect_args": asyncpg_connect_args(
                connect_timeout=self.connect_timeout,
                statement_timeout=self.statement_timeout,
                command_timeout=self.command_timeout,
                idle_in_transaction_timeout=self.idle_in_transaction_timeout,
                tcp_keepalives_idle=self.tcp_keepalives_idle,
                read_only=read_only,
            ),
        }

    def described(self, *, is_sqlite: bool) -> dict[str, object]:
        shown = (
            "pool_size",
            "max_overflow",
            "connect_timeout",
            "pool_timeout",
            "statement_timeout",
            "command_timeout",
        )
        return {name: None if is_sqlite else getattr(self, name) for name in shown}


def sqlite_engine_options(
    echo: bool, busy_timeout_ms: int, pool_size: int, pool_timeout: float
) -> dict[str, Any]:
    # Connections are kept: opening one costs a thread, the PRAGMAs and the schema read, more
    # than most reads. File locks do the sharing, so idle connections hold nothing; a file
    # has no server to lose them to, hence no ping. A burst beyond the pool opens more (closed
    # when returned): a reader never waits for a connection because others are reading.
    return {
        "echo": echo,
        "module": one_trip_dbapi(),
        "poolclass": AsyncAdaptedQueuePool,
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": pool_timeout,
        "connect_args": {"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    }
