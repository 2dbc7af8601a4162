"""Database and unit of work under real faults: bounded, classified, rollbacks never raise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.errors import (
    DB_ERRORS,
    DatabaseReadOnlyError,
    DatabaseUnavailableError,
    StorageFullError,
    classify,
)
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.audit_keys import signer_for_tests
from tests.databases import PostgresServer
from tests.fakes.logger import RecordingLogger

POSTGRES = pytest.mark.parametrize("backend", ["postgresql"])
SQLITE = pytest.mark.parametrize("backend", ["sqlite"])


async def _raised(database: Database, sql: str) -> BaseException:
    """The exception a statement raises through a session (the test fails if none)."""
    try:
        async with database.get_session() as session:
            await session.execute(text(sql))
    except DB_ERRORS as exc:
        return exc
    raise AssertionError(f"{sql!r} did not fail")


async def _admin(server: PostgresServer, sql: str, *args: object) -> Any:
    connection = await asyncpg.connect(server.admin_url.replace("+asyncpg", "", 1))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def _backend_pid(session: Any) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@pytest.fixture
async def fast_database(database_url: str) -> AsyncIterator[Database]:
    db = Database(
        database_url,
        pool_size=2,
        connect_timeout=1.0,
        pool_timeout=0.3,
        command_timeout=1.0,
        statement_timeout=5.0,
    )
    try:
        yield db
    finally:
        await db.close()


def _uow(database: Database, logger: RecordingLogger) -> SqlUnitOfWork:
    return SqlUnitOfWork(database=database, logger=logger, signer=signer_for_tests())


def _failed_entry() -> AuditEntry:
    return AuditEntry(
        action=AuditAction.USER_REGISTERED,
        outcome=AuditOutcome.FAILED,
        resource_type=ResourceType.USER,
    )


@POSTGRES
async def test_client_command_timeout_is_unavailable_and_the_next_session_works(
    fast_database: Database,
) -> None:
    exc = await _raised(fast_database, "SELECT pg_sleep(10)")

    assert type(classify(exc)) is DatabaseUnavailableError
    async with fast_database.get_session() as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1


@POSTGRES
async def test_statement_timeout_ends_the_statement_on_the_server(database_url: str) -> None:
    db = Database(database_url, statement_timeout=0.2, command_timeout=10.0)
    try:
        exc = await _raised(db, "SELECT pg_sleep(5)")
        async with db.get_session() as session:
            setting = (await session.execute(text("SHOW statement_timeout"))).scalar_one()
    finally:
        await db.close()

    assert type(classify(exc)) is DatabaseUnavailableError
    assert setting == "200ms"


@POSTGRES
async def test_exhausted_pool_is_unavailable_after_the_pool_timeout(
    fast_database: Database,
) -> None:
    async with fast_database.engine.connect() as first, fast_database.engine.connect() as second:
        await first.exec_driver_sql("SELECT 1")
        await second.exec_driver_sql("SELECT 1")
        exc = await _raised(fast_database, "SELECT 1")

    assert type(classify(exc)) is DatabaseUnavailableError
    assert classify(exc).code == "database_unavailable"


@POSTGRES
async def test_refused_connections_are_unavailable(
    postgres_server: PostgresServer, database_url: str
) -> None:
    name = make_url(database_url).database
    db = Database(database_url, connect_timeout=1.0)
    await _admin(postgres_server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        exc = await _raised(db, "SELECT 1")
        ready = await db.readiness()
    finally:
        await _admin(postgres_server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await db.close()

    assert classify(exc).code == "database_unavailable"
    assert isinstance(ready, Failure)
    assert ready.error.code == "database_unavailable"


@POSTGRES
async def test_rollback_on_a_terminated_backend_never_raises(
    postgres_server: PostgresServer, fast_database: Database
) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with fast_database.get_session() as session:
            pid = await _backend_pid(session)
            await _admin(postgres_server, "SELECT pg_terminate_backend($1)", pid)
            raise Boom  # the rollback that follows meets a dead connection

    async with fast_database.get_session() as session:
        assert await _backend_pid(session) != pid


@POSTGRES
async def test_unit_of_work_on_a_terminated_backend_exits_cleanly_and_logs(
    postgres_server: PostgresServer, fast_database: Database
) -> None:
    logger = RecordingLogger()
    database = Database(str(fast_database.url.render_as_string(hide_password=False)), logger=logger)
    try:
        async with _uow(database, logger) as uow:
            pid = await _backend_pid(uow.session)
            await _admin(postgres_server, "SELECT pg_terminate_backend($1)", pid)
            # Leaves without commit: the rollback meets the dead connection, and must not raise.

        async with _uow(database, logger) as uow:
            assert await _backend_pid(uow.session) != pid
            assert isinstance(await uow.commit(), Success)
    finally:
        await database.close()

    failed = logger.find("db_rollback_failed")
    assert failed, logger.events()
    assert failed[0].level == "warning"
    assert failed[0].fields["code"] == "database_unavailable"


@POSTGRES
async def test_a_lost_failure_record_is_logged_at_error_with_its_cause(
    postgres_server: PostgresServer, database_url: str
) -> None:
    logger = RecordingLogger()
    name = make_url(database_url).database
    database = Database(database_url, logger=logger, connect_timeout=1.0)
    try:
        async with _uow(database, logger) as uow:
            await uow.session.execute(text("SELECT 1"))
            await _admin(postgres_server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await _admin(
                postgres_server,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
            recorded = await uow.audit_after_rollback(_failed_entry())
    finally:
        await _admin(postgres_server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await database.close()

    assert isinstance(recorded, Failure)
    assert recorded.error.code == "database_unavailable"
    lost = logger.find("audit_failure_record_lost")
    assert [record.level for record in lost] == ["error"]
    assert lost[0].fields["code"] == "database_unavailable"
    assert lost[0].fields["error_type"]


@POSTGRES
async def test_readiness_sees_a_read_only_database(
    postgres_server: PostgresServer, database_url: str
) -> None:
    name = make_url(database_url).database
    db = Database(database_url)
    try:
        assert isinstance(await db.readiness(), Success)
        await _admin(
            postgres_server, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
        )
        ready = await db.readiness()
        exc = await _raised(db, "CREATE TABLE refused (x int)")
    finally:
        await _admin(
            postgres_server, f'ALTER DATABASE "{name}" RESET default_transaction_read_only'
        )
        await db.close()

    assert isinstance(ready, Failure)
    assert type(ready.error) is DatabaseReadOnlyError
    assert type(classify(exc)) is DatabaseReadOnlyError


@POSTGRES
async def test_readiness_answers_on_time_when_the_probe_hangs(database_url: str) -> None:
    db = Database(database_url, ready_timeout=0.3)
    release = asyncio.Event()

    original = db._probe._probe

    async def hanging() -> Any:
        await release.wait()
        return await original()

    db._probe._probe = hanging  # type: ignore[method-assign]
    try:
        async with asyncio.timeout(5):
            first = await db.readiness()
            second = await db.readiness()
        release.set()
        await asyncio.sleep(0)
        third = await db.readiness()
    finally:
        await db.close()

    for result in (first, second):
        assert isinstance(result, Failure)
        assert result.error.code == "database_unavailable"
    assert isinstance(third, Success)


@SQLITE
async def test_sqlite_read_only_file_refuses_writes_not_reads(database_url: str) -> None:
    path = str(make_url(database_url).database)
    # The copied template never met a Database, so it is not in WAL mode yet: switching a
    # read-only file to WAL fails, and must not stop reads.
    db = Database(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    try:
        async with db.get_session() as session:
            assert (await session.execute(text("SELECT count(*) FROM users"))).scalar_one() == 0
        exc = await _raised(db, "CREATE TABLE refused (x INTEGER)")
        ready = await db.readiness()
    finally:
        await db.close()

    assert type(classify(exc)) is DatabaseReadOnlyError
    assert isinstance(ready, Failure)
    assert type(ready.error) is DatabaseReadOnlyError


@SQLITE
async def test_sqlite_full_file_is_storage_full_and_remembered(database: Database) -> None:
    @event.listens_for(database.engine.sync_engine, "connect")
    def _pin_size(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA max_page_count = 1")

    # A new table needs a new page: the file would have to grow.
    exc = await _raised(database, "CREATE TABLE filler AS SELECT randomblob(200000) AS b")
    error = classify(exc)

    assert type(error) is StorageFullError
    assert type(database.recent_write_fault()) is StorageFullError
    ready = await database.readiness()
    assert isinstance(ready, Failure)
    assert type(ready.error) is StorageFullError
