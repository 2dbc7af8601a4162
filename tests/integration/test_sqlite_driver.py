"""SQLite's one-trip driver (persistence/sqlite_driver.py) against a real SQLite file."""

from __future__ import annotations

from typing import Any

import aiosqlite
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

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


async def test_a_read_is_its_begin_its_statement_and_its_rollback(
    database: Database, trips: list[str]
) -> None:
    sessions = read_session_factory(database)
    async with sessions() as warm:  # the pool's first connection: connect and PRAGMAs
        await warm.execute(text("SELECT 1"))
    trips.clear()
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(UserModel))).scalar() == 0
    # BEGIN DEFERRED, the SELECT with its rows, the rollback that ends the snapshot; the
    # pool's reset on return has nothing left to roll back and makes no trip.
    assert trips == ["_run_statement", "_run_statement", "_end_transaction"]


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


async def test_a_transaction_commits_in_one_trip(database: Database, trips: list[str]) -> None:
    await _count_users(database)  # the pool's connection exists
    trips.clear()
    async with database.transaction() as session:
        session.add(_user("one@example.com"))
    assert trips.count("_end_transaction") == 1
    assert await _count_users(database) == 1
