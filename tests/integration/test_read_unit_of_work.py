"""The read-only unit of work on both backends: no write lock taken, no write let through."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.errors import DB_ERRORS
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.read_unit_of_work import (
    SqlReadUnitOfWork,
    read_session_factory,
)
from tests.audit_keys import chain_for_tests, signer_for_tests
from tests.fakes.logger import RecordingLogger
from tests.integration.helpers import statements_sent
from tests.integration.read_audit_support import hold_write_lock


def read_uow(database: Database) -> SqlReadUnitOfWork:
    return SqlReadUnitOfWork(
        database=database,
        sessions=read_session_factory(database),
        signer=signer_for_tests(),
        logger=RecordingLogger(),
    )


async def test_a_read_goes_on_while_a_writer_holds_the_lock(database_url: str) -> None:
    # A busy timeout far beyond the bound below: a read that queued for the lock would hang.
    database = Database(database_url, sqlite_busy_timeout_ms=60_000)
    try:
        # The first connection switches the file to WAL (a running app's file already is).
        assert await database.check_connection()
        async with hold_write_lock(database_url):

            async def read() -> object:
                async with read_uow(database) as uow:
                    return (await uow.users.get(new_id())).unwrap()

            assert await asyncio.wait_for(read(), timeout=20) is None
    finally:
        await database.close()


async def test_a_read_unit_of_work_lets_no_write_through(database: Database, backend: str) -> None:
    async with read_uow(database) as uow:
        uow.session.add(signer_for_tests().row(_entry()))
        if backend == "postgresql":
            with pytest.raises(DB_ERRORS):  # READ ONLY transaction: SQLSTATE 25006
                await uow.session.flush()
        else:
            await uow.session.flush()  # SQLite has no read-only transactions ...
    async with database.get_session() as session:  # ... but nothing is ever committed
        assert (await session.scalars(select(AuditLogModel))).all() == []


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL has no write lock to avoid
async def test_sqlite_reads_begin_deferred_and_writes_immediate(database: Database) -> None:
    with statements_sent(database, "BEGIN") as begins:
        async with read_uow(database) as uow:
            (await uow.users.get(new_id())).unwrap()
        async with database.transaction() as session:
            await session.execute(select(AuditLogModel.id).limit(1))
    assert [statement for statement, _ in begins] == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]


async def test_a_refusal_recorded_from_a_read_is_a_signed_write(database: Database) -> None:
    entry = _entry(outcome=AuditOutcome.FAILED)
    async with read_uow(database) as uow:
        assert await uow.audit_after_rollback(entry) == Success(None)
    outcome = await chain_for_tests(database).seal_pending()
    assert (outcome.sealed, outcome.refused) == (1, [])


def _entry(*, outcome: AuditOutcome = AuditOutcome.SUCCEEDED) -> AuditEntry:
    return AuditEntry(
        action=AuditAction.FINANCIAL_DATA_READ,
        outcome=outcome,
        resource_type=ResourceType.ACCOUNT,
        resource_id=new_id(),
        reason="not_found" if outcome is AuditOutcome.FAILED else None,
    )


async def test_repositories_are_made_on_first_use_in_the_session_of_that_use(
    database: Database,
) -> None:
    uow = read_uow(database)
    with pytest.raises(AttributeError):
        _ = uow.users  # outside 'async with': no session to read in
    async with uow:
        first = uow.users
        assert uow.users is first
        assert (await first.get(new_id())) == Success(None)
        with pytest.raises(AttributeError):
            _ = uow.no_such_repository  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = uow.users
    async with uow:
        assert uow.users is not first  # a new use, a new session, new repositories
        assert (await uow.users.get(new_id())) == Success(None)
