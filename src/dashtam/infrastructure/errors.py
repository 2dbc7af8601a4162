"""Infrastructure errors, and the classification of driver exceptions into them.

Classification reads SQLSTATE (PostgreSQL) or the extended result code (SQLite), never the
message text: messages change with versions and locales, codes do not.
"""

from __future__ import annotations

import socket
import sqlite3
from dataclasses import dataclass
from typing import ClassVar

from asyncpg.exceptions import (  # type: ignore[import-untyped]
    InterfaceError as AsyncpgInterfaceError,
)
from asyncpg.exceptions import (
    InternalClientError as AsyncpgInternalClientError,
)
from asyncpg.exceptions import (
    PostgresError as AsyncpgPostgresError,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError

from dashtam.core.errors import ConflictError, Error, InfrastructureError


@dataclass(frozen=True, slots=True)
class DatabaseError(InfrastructureError):
    """The database refused or failed an operation."""

    default_code: ClassVar[str] = "database_error"


@dataclass(frozen=True, slots=True)
class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached (or the pool is exhausted)."""

    default_code: ClassVar[str] = "database_unavailable"
    # Seconds a client should wait before retrying (the ``Retry-After`` of the 503).
    retry_after_seconds: ClassVar[int] = 5


@dataclass(frozen=True, slots=True)
class DatabaseReadOnlyError(DatabaseUnavailableError):
    """The database answers but refuses writes (read-only file or mount, a standby)."""

    default_code: ClassVar[str] = "database_read_only"
    retry_after_seconds: ClassVar[int] = 30


@dataclass(frozen=True, slots=True)
class StorageFullError(DatabaseUnavailableError):
    """The database cannot grow: its disk (or its size limit) is full."""

    default_code: ClassVar[str] = "storage_full"
    retry_after_seconds: ClassVar[int] = 30


@dataclass(frozen=True, slots=True)
class SchemaNotCurrentError(DatabaseUnavailableError):
    """The database answers but its schema is not the one this release needs."""

    default_code: ClassVar[str] = "schema_not_current"
    retry_after_seconds: ClassVar[int] = 30


# What a database call can raise. asyncpg does not wrap a refused or dropped connection in a
# DBAPI error, so SQLAlchemy lets the bare OSError (or TimeoutError: command_timeout) through,
# and asyncpg's InternalClientError is not translated at all; ``classify`` maps them all to
# DatabaseUnavailableError.
DB_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError,
    OSError,
    sqlite3.Error,  # straight from the driver, where SQLAlchemy is bypassed (readiness probe)
    AsyncpgInterfaceError,
    AsyncpgInternalClientError,
    AsyncpgPostgresError,  # straight from the driver too: COPY (repositories/dialect.py)
)

# PostgreSQL SQLSTATEs we treat specially.
PG_UNIQUE_VIOLATION = "23505"
PG_FOREIGN_KEY_VIOLATION = "23503"
PG_CHECK_VIOLATION = "23514"
PG_NOT_NULL_VIOLATION = "23502"
PG_SERIALIZATION_FAILURE = "40001"
PG_DEADLOCK_DETECTED = "40P01"
PG_LOCK_NOT_AVAILABLE = "55P03"
PG_INSUFFICIENT_PRIVILEGE = "42501"  # raised by the audit append-only trigger
PG_CONNECTION_CLASS = "08"
PG_INVALID_AUTHORIZATION_CLASS = "28"
PG_INVALID_CATALOG_NAME = "3D000"
PG_ADMIN_SHUTDOWN_CLASS = "57"  # 57P01 terminated, 57P03 starting up, 57014 statement timeout
PG_OBJECT_NOT_IN_PREREQUISITE_STATE = "55000"  # ALTER DATABASE ... ALLOW_CONNECTIONS false
PG_READ_ONLY_SQL_TRANSACTION = "25006"  # a standby, or default_transaction_read_only
PG_INSUFFICIENT_RESOURCES_CLASS = "53"  # 53300 too many connections, 53200 out of memory
PG_DISK_FULL = "53100"
PG_CONNECTION_LOST_STATES = frozenset({"57P01", "57P02"})  # the backend is gone with its session

# SQLite extended result codes (https://sqlite.org/rescode.html).
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_CONSTRAINT_CHECK = 275
SQLITE_CONSTRAINT_FOREIGNKEY = 787
SQLITE_CONSTRAINT_NOTNULL = 1299
SQLITE_CONSTRAINT_PRIMARYKEY = 1555
SQLITE_CONSTRAINT_TRIGGER = 1811
SQLITE_CONSTRAINT_UNIQUE = 2067
SQLITE_CANTOPEN = 14
SQLITE_READONLY = 8  # with its extended codes: a read-only file, mount or connection
SQLITE_IOERR = 10
SQLITE_FULL = 13
SQLITE_PRIMARY_MASK = 0xFF

# The client lost the connection (no server-side error to read): the socket cannot be reused.
_CONNECTION_LOST_TYPES: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError (asyncpg's command_timeout) and ConnectionError
    AsyncpgInterfaceError,  # ConnectionDoesNotExistError's siblings: "connection is closed"
    AsyncpgInternalClientError,  # protocol state broken, e.g. after a cancelled round trip
)


def _driver_errors(exc: BaseException) -> tuple[BaseException, ...]:
    """The exception, the driver error SQLAlchemy wrapped, and that error's cause."""
    orig: object = exc.orig if isinstance(exc, DBAPIError) else exc
    cause = getattr(orig, "__cause__", None)
    candidates = (exc, orig, cause)
    return tuple(c for c in dict.fromkeys(candidates) if isinstance(c, BaseException))


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE carried by a (wrapped) asyncpg exception, if any."""
    for candidate in _driver_errors(exc):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def sqlite_code_of(exc: BaseException) -> int | None:
    """The SQLite extended result code carried by a (wrapped) sqlite3 exception, if any."""
    for candidate in _driver_errors(exc):
        if isinstance(candidate, sqlite3.Error):
            code = getattr(candidate, "sqlite_errorcode", None)
            if isinstance(code, int):
                return code
    return None


def is_connection_lost(exc: BaseException) -> bool:
    """True when the connection that raised ``exc`` cannot be used again (drop it, do not reuse).

    A server-sent error leaves the session usable, except when the server ended it (57P01/02);
    a client-side failure (timeout, reset, closed socket, broken protocol state) never does.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    sqlstate = sqlstate_of(exc)
    if sqlstate is not None:
        return sqlstate.startswith(PG_CONNECTION_CLASS) or sqlstate in PG_CONNECTION_LOST_STATES
    if sqlite_code_of(exc) is not None:
        return False
    return any(isinstance(candidate, _CONNECTION_LOST_TYPES) for candidate in _driver_errors(exc))


def classify(exc: BaseException, *, unique_violation: Error | None = None) -> Error:
    """Turn a database exception into a typed error (never leaking the driver's message)."""
    if isinstance(exc, StaleDataError):
        return ConflictError(
            "the resource was changed by someone else; reload and retry", code="stale_version"
        )
    sqlstate = sqlstate_of(exc)
    if sqlstate is not None:
        return _classify_sqlstate(sqlstate, unique_violation)
    sqlite_code = sqlite_code_of(exc)
    if sqlite_code is not None:
        return _classify_sqlite(sqlite_code, unique_violation)
    if isinstance(exc, PoolTimeoutError):
        # Every pooled connection is busy for longer than DB_POOL_TIMEOUT.
        return DatabaseUnavailableError("no database connection free", retryable=True)
    if is_connection_lost(exc):
        return DatabaseUnavailableError("database connection lost", retryable=True)
    if any(isinstance(candidate, socket.gaierror) for candidate in _driver_errors(exc)):
        return DatabaseUnavailableError("database host unknown", retryable=True)
    return DatabaseError("database operation failed")


def _classify_sqlstate(sqlstate: str, unique_violation: Error | None) -> Error:
    if sqlstate == PG_UNIQUE_VIOLATION:
        return unique_violation or ConflictError("duplicate value", code="duplicate")
    if sqlstate in (PG_SERIALIZATION_FAILURE, PG_DEADLOCK_DETECTED, PG_LOCK_NOT_AVAILABLE):
        return ConflictError(
            "concurrent update, please retry", code="concurrent_update", details={"retry": True}
        )
    if sqlstate == PG_INSUFFICIENT_PRIVILEGE:
        return DatabaseError("operation not permitted", code="operation_not_permitted")
    if sqlstate.startswith(PG_INVALID_AUTHORIZATION_CLASS):
        return DatabaseUnavailableError("the database refused the credentials")
    if sqlstate == PG_INVALID_CATALOG_NAME:
        return DatabaseUnavailableError("the database does not exist")
    if sqlstate.startswith("23"):
        return DatabaseError("data violates an integrity constraint", code="integrity_error")
    if sqlstate == PG_DISK_FULL:
        return StorageFullError("the database disk is full", retryable=True)
    if sqlstate == PG_READ_ONLY_SQL_TRANSACTION:
        return DatabaseReadOnlyError("the database is read-only", retryable=True)
    if (
        sqlstate.startswith(
            (PG_CONNECTION_CLASS, PG_ADMIN_SHUTDOWN_CLASS, PG_INSUFFICIENT_RESOURCES_CLASS)
        )
        or sqlstate == PG_OBJECT_NOT_IN_PREREQUISITE_STATE
    ):
        return DatabaseUnavailableError("database unavailable", retryable=True)
    return DatabaseError("database operation failed")


def _classify_sqlite(code: int, unique_violation: Error | None) -> Error:
    if code in (SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY):
        return unique_violation or ConflictError("duplicate value", code="duplicate")
    if code == SQLITE_CONSTRAINT_TRIGGER:
        return DatabaseError("operation not permitted", code="operation_not_permitted")
    if code in (SQLITE_CONSTRAINT_CHECK, SQLITE_CONSTRAINT_FOREIGNKEY, SQLITE_CONSTRAINT_NOTNULL):
        return DatabaseError("data violates an integrity constraint", code="integrity_error")
    if code & SQLITE_PRIMARY_MASK in (SQLITE_BUSY, SQLITE_LOCKED):
        return ConflictError(
            "database is busy, please retry", code="concurrent_update", details={"retry": True}
        )
    primary = code & SQLITE_PRIMARY_MASK
    if primary == SQLITE_READONLY:
        return DatabaseReadOnlyError("the database is read-only", retryable=True)
    if primary == SQLITE_FULL:
        return StorageFullError("the database disk is full", retryable=True)
    if primary in (SQLITE_CANTOPEN, SQLITE_IOERR):
        return DatabaseUnavailableError("database unavailable", retryable=True)
    return DatabaseError("database operation failed")


def describe_connection_error(exc: BaseException) -> str:
    """One line for an operator: the typed meaning plus the driver's first line (no URL)."""
    error = classify(exc)
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    driver_line = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"{error.message} ({driver_line})"
