"""Infrastructure errors, and the classification of driver exceptions into them.

Classification reads SQLSTATE (PostgreSQL) or the extended result code (SQLite), never the
message text: messages change with versions and locales, codes do not.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
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


# What a database call can raise. asyncpg does not wrap a refused or dropped connection in a
# DBAPI error, so SQLAlchemy lets the bare OSError through; ``classify`` maps it to
# DatabaseUnavailableError.
DB_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError)

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
PG_ADMIN_SHUTDOWN_CLASS = "57"

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
SQLITE_PRIMARY_MASK = 0xFF


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE carried by a (wrapped) asyncpg exception, if any."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def sqlite_code_of(exc: BaseException) -> int | None:
    """The SQLite extended result code carried by a (wrapped) sqlite3 exception, if any."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    for candidate in (orig, getattr(orig, "__cause__", None)):
        if isinstance(candidate, sqlite3.Error):
            code = getattr(candidate, "sqlite_errorcode", None)
            if isinstance(code, int):
                return code
    return None


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
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return DatabaseUnavailableError("database connection lost", retryable=True)
    if isinstance(exc, OSError | ConnectionError | TimeoutError):
        return DatabaseUnavailableError("database unreachable", retryable=True)
    if isinstance(exc, SQLAlchemyError):
        return DatabaseError("database operation failed")
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
    if sqlstate.startswith((PG_CONNECTION_CLASS, PG_ADMIN_SHUTDOWN_CLASS)):
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
    if code & SQLITE_PRIMARY_MASK == SQLITE_CANTOPEN:
        return DatabaseUnavailableError("database unavailable", retryable=True)
    return DatabaseError("database operation failed")


def describe_connection_error(exc: BaseException) -> str:
    """One line for an operator: the typed meaning plus the driver's first line (no URL)."""
    error = classify(exc)
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    driver_line = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"{error.message} ({driver_line})"
