"""aiosqlite as SQLAlchemy's DBAPI, with one trip to the connection's thread per statement.

aiosqlite runs each sqlite3 connection in a thread of its own and every call on it is a trip
there and back (a queue, a thread wake-up, a wake-up of the event loop). SQLAlchemy's adapter
makes four per statement (open a cursor, execute, fetch, close) and one more per connection
returned to the pool (its reset rolls back again what the session has just rolled back). An
authenticated, audited read on SQLite took 18 trips; under 32 concurrent readers the trips,
and the GIL hand-overs between the loop and some forty connection threads, were most of the
wait. Here a statement is one trip (cursor, execute, fetch and close run together in the
thread), and a rollback or commit is skipped when the thread reported, after the last
statement, that no transaction was open: sqlite3's own ``rollback`` does nothing then either.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

_T = TypeVar("_T")


class _Outcome(NamedTuple):
    """What a statement left, read in the connection's thread."""

    description: Any
    rows: list[Any]
    rowcount: int
    lastrowid: int | None
    in_transaction: bool


def _run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        else:
            cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return _Outcome(
            description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
        )
    finally:
        cursor.close()


def _end_transaction(connection: sqlite3.Connection, commit: bool) -> None:
    if commit:
        connection.commit()
    else:
        connection.rollback()


class OneTripCursor:
    """A DBAPI cursor whose statement, with all of its rows, comes back in one trip."""

    __slots__ = ("_adapted", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, adapted: OneTripConnection) -> None:
        self._adapted = adapted
        self._rows: deque[Any] = deque()
        self.arraysize = 1
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._take(self._adapted.run(operation, parameters, many=False))

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._take(self._adapted.run(operation, seq_of_parameters, many=True))

    def _take(self, outcome: _Outcome) -> None:
        self.description = outcome.description
        self._rows = deque(outcome.rows)
        self.rowcount = outcome.rowcount
        self.lastrowid = outcome.lastrowid

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def setinputsizes(self, *sizes: Any) -> None:
        pass

    def close(self) -> None:
        # The sqlite3 cursor was closed in the thread: only the fetched rows are left.
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio results call this; the rows are already here."""


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with one-trip cursors (server-side ones unchanged)."""

    # Whether a transaction may be open, as the thread last saw it; unknown counts as open.
    _maybe_in_transaction = True
    # The file is in WAL mode (set when the connection is made): its readers never wait.
    wal = False
    # The current transaction runs on the calling thread, not on the connection's.
    on_loop = False

    def begin_reading_on_loop(self) -> None:
        """Run this read-only transaction's statements on the event loop itself.

        In WAL mode a reader takes no lock a writer holds: its statements wait on nothing but
        the file, most of it in the page cache, and a page of rows takes a fraction of a
        millisecond. A trip to the connection's thread costs more than that, and under load
        much more: each waits for the GIL the event loop holds (bench/sqlite_readers.py:
        reads/s 177-238 -> 376-384, p99 309-409 -> 132-179 ms). Writes keep the thread:
        ``BEGIN IMMEDIATE`` may wait for the write lock for as long as the busy timeout.
        Server-side cursors keep it too: a stream of many rows would hold the loop.
        """
        self.on_loop = self.wal

    def cursor(self, server_side: bool = False) -> Any:
        if server_side:
            self.on_loop = False  # a stream of rows from the thread, as SQLAlchemy's does
            self._maybe_in_transaction = True  # its statements do not report back
            return super().cursor(server_side=True)
        return OneTripCursor(self)

    def run(self, operation: str, parameters: Any, *, many: bool) -> _Outcome:
        """Run one statement (from SQLAlchemy's greenlet)."""
        self._maybe_in_transaction = True  # until the thread says otherwise
        outcome: _Outcome = self._call(_run_statement, operation, parameters, many)
        self._maybe_in_transaction = outcome.in_transaction
        return outcome

    def rollback(self) -> None:
        self._end(commit=False)

    def commit(self) -> None:
        self._end(commit=True)

    def _end(self, *, commit: bool) -> None:
        try:
            # Nothing open, nothing to end: sqlite3 would make this call a no-op in the thread.
            if self._maybe_in_transaction and self._connection._connection:
                self._call(_end_transaction, commit)
                self._maybe_in_transaction = False
        finally:
            self.on_loop = False

    def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        """``function(sqlite3 connection, *args)`` on the loop while reading there, else in
        the connection's thread; a sqlite3 error comes out as the DBAPI's."""
        try:
            if self.on_loop:
                return function(self._connection._conn, *args)
            done: _T = await_(self._connection._execute(function, self._connection._conn, *args))
        except Exception as error:
            self._handle_exception(error)
        return done


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy is given (``create_engine(module=...)``)."""

    def connect(self, *args: Any, **kwargs: Any) -> OneTripConnection:
        adapted = super().connect(*args, **kwargs)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    import aiosqlite

    return OneTripDBAPI(aiosqlite, sqlite3)
