"""``@classified``, the repositories' one error boundary, against real PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.infrastructure.errors import DatabaseError
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.database import Database

_TAKEN = ConflictError("that name is taken", code="name_taken")
_STALE = ConflictError("changed meanwhile", code="stale_version")


class Probe:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def broken(self) -> Result[int, Error]:
        await self._session.execute(text("SELECT no_such_column FROM no_such_table"))
        return Success(1)

    @classified(unique_violation=_TAKEN)
    async def insert_twice(self, name: str) -> Result[None, Error]:
        for _ in range(2):
            await self._session.execute(
                text("INSERT INTO providers (slug, name, accepts_files) VALUES (:s, :s, true)"),
                {"s": name},
            )
        return Success(None)

    @classified(stale_version=_STALE)
    async def lose_a_race(self) -> Result[None, Error]:
        raise StaleDataError("UPDATE matched 0 rows")

    @classified
    async def bug(self) -> Result[None, Error]:
        raise ValueError("a programming error is not the database's")


async def test_a_driver_error_becomes_a_typed_failure(database: Database) -> None:
    async with database.get_session() as session:
        result = await Probe(session=session).broken()
        await session.rollback()
    assert isinstance(result, Failure)
    assert isinstance(result.error, DatabaseError)
    assert "no_such" not in result.error.message  # the driver's text never leaks


async def test_the_repository_names_its_own_conflicts(database: Database) -> None:
    async with database.get_session() as session:
        probe = Probe(session=session)
        taken = await probe.insert_twice("twice")
        await session.rollback()
        stale = await probe.lose_a_race()
    assert taken == Failure(_TAKEN)
    assert stale == Failure(_STALE)


async def test_other_exceptions_pass_through(database: Database) -> None:
    async with database.get_session() as session:
        with pytest.raises(ValueError, match="programming error"):
            await Probe(session=session).bug()
        await session.rollback()
