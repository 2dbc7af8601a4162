"""SQLite's one-trip driver (persistence/sqlite_driver.py) against a real SQLite file."""

from __future__ import annotations

import threading
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.errors import classify
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.read_unit_of_work import read_session_factory

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to an aiosqlite connection's thread."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


def _user(email: str) -> UserModel:
    return UserModel.from_entity(User(email=Email(email), password_hash="x"))


async def _count_users(database: Database) -> int:
    async with database.get_session() as session:
        return int(await session.scalar(select(func.count()).select_from(UserModel)) or 0)


async def test_a_read_runs_on_the_event_loop_and_makes_no_trip(
    database: Database, trips: list[str]
) -> None:
    sessions = read_session_factory(database)
    async with sessions() as warm:  # the pool's first connection: connect and PRAGMAs
        await warm.execute(text("SELECT 1"))
    trips.clear()
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(UserModel))).scalar() == 0
    # BEGIN DEFERRED, the SELECT with its rows, the rollback that ends the snapshot: all on
    # the loop's thread (WAL readers wait for no lock); the pool's reset has nothing to do.
    assert trips == []


async def _thread_running_statements(session: AsyncSession) -> int:
    """The thread a statement of this session's transaction runs in."""
    raw = await (await session.connection()).get_raw_connection()
    sqlite = raw.dbapi_connection._connection._conn  # type: ignore[union-attr]
    sqlite.create_function("thread_ident", 0, threading.get_ident)
    return int((await session.execute(text("SELECT thread_ident()"))).scalar_one())


async def test_a_read_runs_in_the_loops_thread_and_a_write_in_the_connections(
    database: Database, trips: list[str]
) -> None:
    loop_thread = threading.get_ident()
    async with read_session_factory(database)() as session:
        assert await _thread_running_statements(session) == loop_thread
    async with database.transaction() as session:
        # BEGIN IMMEDIATE may wait for the write lock: never on the loop.
        assert await _thread_running_statements(session) != loop_thread
    trips.clear()
    async with read_session_factory(database)() as session:  # the same connection, reading
        assert await _thread_running_statements(session) == loop_thread
    assert trips == []


async def test_a_read_on_the_loop_does_not_wait_for_a_writer(database: Database) -> None:
    async with database.transaction() as writing:
        writing.add(_user("pending@example.com"))
        await writing.flush()  # the write lock is held until this block ends
        async with read_session_factory(database)() as reading:
            # WAL: the reader sees the last commit at once, without the writer's row.
            assert await reading.scalar(select(func.count()).select_from(UserModel)) == 0
    assert await _count_users(database) == 1


async def test_rows_description_and_counts_come_back_with_the_statement(
    database: Database,
) -> None:
    async with database.transaction() as session:
        session.add_all([_user(f"u{i}@example.com") for i in range(3)])
    async with database.get_session() as session:
        result = await session.execute(select(UserModel.email).order_by(UserModel.email))
        assert list(result.keys()) == ["email"]
        assert result.scalars().all() == ["u0@example.com", "u1@example.com", "u2@example.com"]
    async with database.transaction() as session:
        changed = await session.execute(
            update(UserModel).where(UserModel.email != "u0@example.com").values(version=7)
        )
        # Optimistic concurrency reads the count of an UPDATE.
        assert changed.rowcount == 2  # type: ignore[attr-defined]


async def test_a_write_rolled_back_after_a_failed_statement_leaves_nothing(
    database: Database,
) -> None:
    with pytest.raises(DBAPIError):
        async with database.transaction() as session:
            session.add(_user("kept@example.com"))
            await session.flush()
            await session.execute(text("SELECT * FROM no_such_table"))
    assert await _count_users(database) == 0


async def test_driver_errors_are_raised_and_classified_as_before(database: Database) -> None:
    async with database.get_session() as session:
        session.add(_user("twice@example.com"))
    with pytest.raises(DBAPIError) as caught:
        async with database.get_session() as session:
            session.add(_user("twice@example.com"))
    assert classify(caught.value).code == "duplicate"


async def test_an_error_in_a_read_on_the_loop_is_the_drivers_and_spoils_nothing(
    database: Database,
) -> None:
    sessions = read_session_factory(database)
    with pytest.raises(DBAPIError) as caught:
        async with sessions() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    assert "no such table" in str(caught.value)
    async with sessions() as session:  # the pool's connection reads on, on the loop
        assert await _thread_running_statements(session) == threading.get_ident()
        assert await session.scalar(select(func.count()).select_from(UserModel)) == 0


async def test_a_transaction_commits_in_one_trip(database: Database, trips: list[str]) -> None:
    await _count_users(database)  # the pool's connection exists
    trips.clear()
    async with database.transaction() as session:
        session.add(_user("one@example.com"))
    assert trips.count("_end_transaction") == 1
    assert await _count_users(database) == 1
