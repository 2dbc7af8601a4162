"""A request's shared reads: on PostgreSQL its read units of work share one session (one pool
checkout), lent to one at a time and to its own task only; on SQLite nothing is shared."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.infrastructure.persistence.boundary import _FAILED_IN
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.read_scope import release_shared_reads, shared_reads
from dashtam.infrastructure.persistence.read_unit_of_work import (
    SqlReadUnitOfWork,
    read_session_factory,
)
from tests.audit_keys import signer_for_tests
from tests.fakes.logger import RecordingLogger


@pytest.fixture
def reads(database: Database) -> SqlReadUnitOfWork:
    sessions = read_session_factory(database)
    return SqlReadUnitOfWork(
        database=database, sessions=sessions, signer=signer_for_tests(), logger=RecordingLogger()
    )


def _uow(database: Database, reads: SqlReadUnitOfWork) -> SqlReadUnitOfWork:
    """Another read unit of work on the same session factory (as the container makes them)."""
    return SqlReadUnitOfWork(
        database=database,
        sessions=reads._session_factory,
        signer=signer_for_tests(),
        logger=RecordingLogger(),
    )


def _checked_out(database: Database) -> int:
    return int(database.read_engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_consecutive_reads_of_a_request_share_one_session(
    database: Database, reads: SqlReadUnitOfWork
) -> None:
    async with shared_reads(database, reads._session_factory):
        async with reads as first:
            assert (await first.users.get(new_id())) == Success(None)
            session = first.session
        async with _uow(database, reads) as second:
            assert (await second.users.get(new_id())) == Success(None)
            assert (second.session is session) is not database.is_sqlite
        if not database.is_sqlite:
            assert _checked_out(database) == 1  # held for the request's next read
    if not database.is_sqlite:
        assert _checked_out(database) == 0  # and handed back when the request ends


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_the_session_is_lent_to_one_unit_of_work_and_one_task_at_a_time(
    database: Database, reads: SqlReadUnitOfWork
) -> None:
    async with shared_reads(database, reads._session_factory), reads as outer:
        async with _uow(database, reads) as inner:
            assert inner.session is not outer.session  # in use: the inner read has its own

        async def elsewhere() -> object:
            async with _uow(database, reads) as other:
                return other.session

        assert await asyncio.create_task(elsewhere()) is not outer.session


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_read_that_failed_on_the_shared_session_spoils_it_for_the_next(
    database: Database, reads: SqlReadUnitOfWork
) -> None:
    async with shared_reads(database, reads._session_factory):
        async with reads as first:
            session = first.session
            with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the driver raises
                await session.execute(text("SELECT 1/0"))
            # What a repository's boundary does when a statement fails.
            session.info[_FAILED_IN] = session.sync_session.get_transaction()
        async with _uow(database, reads) as second:
            assert second.session is not session
            assert (await second.users.get(new_id())) == Success(None)
    assert _checked_out(database) == 0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_release_hands_the_connection_back_before_a_wait(
    database: Database, reads: SqlReadUnitOfWork
) -> None:
    async with shared_reads(database, reads._session_factory):
        async with reads as first:
            assert (await first.users.get(new_id())) == Success(None)
        assert _checked_out(database) == 1
        await release_shared_reads()
        assert _checked_out(database) == 0
        async with _uow(database, reads) as second:
            result = await second.users.get(new_id())
        assert not isinstance(result, Failure)
    assert _checked_out(database) == 0


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_read_does_not_see_what_the_one_before_it_loaded_as_instances(
    database: Database, reads: SqlReadUnitOfWork
) -> None:
    from dashtam.domain.users.entities import User
    from dashtam.domain.users.value_objects import Email
    from dashtam.infrastructure.persistence.models.users import UserModel

    user = User(email=Email("seen@example.com"), password_hash="x")
    async with database.transaction() as session:
        session.add(UserModel.from_entity(user))
    async with shared_reads(database, reads._session_factory):
        async with reads as first:
            loaded = await first.session.get(UserModel, user.id)  # held: stays in the map
            assert loaded is not None
            assert loaded in first.session
            shared = first.session
        async with _uow(database, reads) as second:
            assert second.session is shared
            assert loaded not in second.session  # read again, it is loaded afresh
