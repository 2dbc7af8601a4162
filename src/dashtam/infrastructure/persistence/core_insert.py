"""Rows given as column values, inserted through Core: no ORM instance and no unit-of-work
bookkeeping for rows that are written once and never read back in the same session (audit
records, outbox events, a new user)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Insert, Table, bindparam, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dashtam.infrastructure.persistence.base import Base

# A model and the values of its new rows, by column name; every row names the same columns
# (one executemany per model: SQLAlchemy fills a left-out column's default, the same for all).
RowBatch = tuple[type[Base], Sequence[Mapping[str, Any]]]
# Up to this many rows of several tables go in one statement on PostgreSQL (a statement is
# built and kept per shape: the tables, their row counts and columns); more go per table.
ONE_STATEMENT_ROWS = 8
# Rows of one multi-row INSERT on SQLite, at most (a power of two; see _insert_sqlite_rows).
SQLITE_ROWS_PER_STATEMENT = 256
# SQLite refuses a statement with more bound values (SQLITE_MAX_VARIABLE_NUMBER's default).
_SQLITE_MAX_VARIABLES = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


def insert_values_sync(session: Session, batches: Iterable[RowBatch]) -> None:
    """Insert every batch in the session's transaction: on PostgreSQL a few rows of several
    tables in one statement (data-modifying CTEs), else one INSERT per model."""
    connection = session.connection()  # Core's own path: none of the ORM's statement plumbing
    filled = [(model, values) for model, values in batches if values]
    shape = tuple((model, len(values), tuple(values[0])) for model, values in filled)
    if (
        len(filled) > 1
        and sum(len(values) for _, values in filled) <= ONE_STATEMENT_ROWS
        and connection.dialect.name == "postgresql"
        and all(_names_every_default(model, columns) for model, _, columns in shape)
    ):
        # One round trip instead of one per table: a use case's audit record and outbox row
        # cost a single statement between its own writes and COMMIT.
        parameters = {
            f"r{batch}_{row}_{column}": value
            for batch, (_, values) in enumerate(filled)
            for row, record in enumerate(values)
            for column, value in record.items()
        }
        connection.execute(_one_statement(shape), parameters)
        return
    for model, values in filled:
        if (
            len(values) > 1
            and connection.dialect.name == "sqlite"
            and _names_every_default(model, tuple(values[0]))
        ):
            _insert_sqlite_rows(connection, model, values)
        else:
            connection.execute(_insert_into(model), list(values))


def _insert_sqlite_rows(
    connection: Connection, model: type[Base], values: Sequence[Mapping[str, Any]]
) -> None:
    """``values`` in a few multi-row INSERTs instead of an executemany.

    The connection's thread runs an executemany one row at a time, taking the GIL back after
    each row; while the event loop keeps it busy, each take waits for the loop's switch
    interval (5 ms): 200 read audit records took 0.3-0.8 s to write under 32 readers, and
    every read waiting for room in the buffer waited with them (one statement: 16 ms).

    SQLAlchemy compiles a multi-row VALUES anew on every execution, so it is compiled here
    once per table, columns and row count, and the values go through the columns' own bind
    processors, as SQLAlchemy would send them. Row counts are powers of two (200 rows:
    128 + 64 + 8), so a handful of statements serve every batch.
    """
    columns = tuple(values[0])
    largest = _rows_per_statement(len(columns))
    start = 0
    while start < len(values):
        rows = min(largest, 1 << ((len(values) - start).bit_length() - 1))
        statement = _sqlite_rows_statement(model, columns, rows, connection.dialect)
        chunk = values[start : start + rows]
        flat: list[Any] = []
        for row, column in statement.positions:
            value, process = chunk[row][column], statement.processors[column]
            flat.append(value if process is None else process(value))
        connection.exec_driver_sql(statement.sql, tuple(flat))
        start += rows


def _rows_per_statement(column_count: int) -> int:
    """The largest power of two of rows whose values SQLite takes in one statement."""
    fits = min(SQLITE_ROWS_PER_STATEMENT, _SQLITE_MAX_VARIABLES // column_count)
    return 1 << (fits.bit_length() - 1)


@dataclass(frozen=True)
class _CompiledRows:
    sql: str
    positions: tuple[tuple[int, str], ...]  # (row, column) of each ``?``, in order
    processors: Mapping[str, Callable[[Any], Any] | None]


@lru_cache(maxsize=64)
def _sqlite_rows_statement(
    model: type[Base], columns: tuple[str, ...], rows: int, dialect: Dialect
) -> _CompiledRows:
    table = cast(Table, model.__table__)
    names = {f"r{row}_{column}": (row, column) for row in range(rows) for column in columns}
    statement = insert(table).values(
        [{column: bindparam(f"r{row}_{column}") for column in columns} for row in range(rows)]
    )
    compiled = statement.compile(dialect=dialect)
    return _CompiledRows(
        sql=compiled.string,
        positions=tuple(names[name] for name in compiled.positiontup or ()),
        processors={
            column: table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
            for column in columns
        },
    )


@lru_cache(maxsize=64)
def _one_statement(shape: tuple[tuple[type[Base], int, tuple[str, ...]], ...]) -> Insert:
    """``WITH rows_0 AS (INSERT ...), rows_1 AS (INSERT ...) INSERT ...``: every row of
    ``shape`` with its values bound by name, built once per shape.

    One single-row INSERT per row: SQLAlchemy cannot cache a multi-row VALUES of bound
    parameters (it would compile the statement on every commit), it does cache this, under a
    key memoized on the statement."""
    inserts = []
    for batch, (model, count, columns) in enumerate(shape):
        table = cast(Table, model.__table__)
        inserts += [
            insert(table).values(
                {
                    column: bindparam(f"r{batch}_{row}_{column}", type_=table.c[column].type)
                    for column in columns
                }
            )
            for row in range(count)
        ]
    *first, last = inserts
    return last.add_cte(*(step.cte(f"rows_{index}") for index, step in enumerate(first)))


@lru_cache(maxsize=64)
def _names_every_default(model: type[Base], columns: tuple[str, ...]) -> bool:
    """Whether rows naming ``columns`` leave no Python-side default to SQLAlchemy: a
    multi-row VALUES of bound parameters would send NULL for it instead."""
    table = cast(Table, model.__table__)
    return all(column.key in columns for column in table.columns if column.default is not None)


@cache
def _insert_into(model: type[Base]) -> Insert:
    # The table, not the class: an ORM-enabled insert would take attribute names.
    return insert(cast(Table, model.__table__))


async def insert_values(session: AsyncSession, batches: Iterable[RowBatch]) -> None:
    await session.run_sync(insert_values_sync, list(batches))


async def insert_row(session: AsyncSession, model: type[Base], values: Mapping[str, Any]) -> None:
    """One new row of ``model`` (a repository's ``add``)."""
    await insert_values(session, [(model, [values])])
