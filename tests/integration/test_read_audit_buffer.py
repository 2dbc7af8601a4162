"""The buffered read audit log on both backends: batches, back-pressure, shutdown, MACs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.audit.read_buffer import BufferedReadAuditLog
from dashtam.infrastructure.errors import DatabaseUnavailableError
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.audit_keys import chain_for_tests, signer_for_tests
from tests.fakes.logger import RecordingLogger
from tests.integration.helpers import install_failing_insert_trigger, statements_sent
from tests.integration.read_audit_support import hold_write_lock


def read_entry(n: int = 0) -> AuditEntry:
    return AuditEntry(
        action=AuditAction.FINANCIAL_DATA_READ,
        outcome=AuditOutcome.SUCCEEDED,
        resource_type=ResourceType.ACCOUNT,
        resource_id=new_id(),
        trace_id=f"trace-{n}",
        metadata={"view": "accounts", "count": n},
    )


def make_log(database: Database, **options: Any) -> BufferedReadAuditLog:
    options.setdefault("logger", RecordingLogger())
    options.setdefault("flush_interval", 60.0)  # only explicit flushes, unless a test says so
    return BufferedReadAuditLog(database=database, signer=signer_for_tests(), **options)


async def stored(database: Database) -> list[AuditLogModel]:
    async with database.get_session() as session:
        query = select(AuditLogModel).order_by(AuditLogModel.created_at, AuditLogModel.id)
        return list((await session.scalars(query)).all())


async def test_a_flush_writes_every_waiting_record_in_one_insert(database: Database) -> None:
    log = make_log(database)
    entries = [read_entry(n) for n in range(25)]
    for entry in entries:
        assert await log.record(entry) == Success(None)
    assert await stored(database) == []  # accepted, not yet written
    with statements_sent(database, "INSERT INTO audit_logs") as inserts:
        assert await log.flush() == Success(25)
    # On PostgreSQL one executemany of one cached statement (asyncpg pipelines it in one
    # round trip); on SQLite multi-row INSERTs of 16, 8 and 1 rows (sqlite3's executemany
    # would take the GIL back from a busy event loop after every row).
    assert [many for _, many in inserts] == ([False] * 3 if database.is_sqlite else [True])
    rows = await stored(database)
    assert {row.id for row in rows} == {entry.id for entry in entries}
    assert sorted(row.details["count"] for row in rows) == list(range(25))
    assert await log.flush() == Success(0)
    await log.close()


async def test_the_flusher_writes_in_the_background(database: Database) -> None:
    log = make_log(database, flush_interval=0.05)
    log.start()
    entries = [read_entry(n) for n in range(3)]
    for entry in entries:
        (await log.record(entry)).unwrap()
    for _ in range(200):  # bounded: ~10 s at worst
        if len(await stored(database)) == 3:
            break
        await asyncio.sleep(0.05)
    assert {row.id for row in await stored(database)} == {entry.id for entry in entries}
    assert log.waiting == 0
    await log.close()


async def test_flushed_rows_carry_a_valid_mac_and_seal_without_refusal(
    database: Database,
) -> None:
    log = make_log(database)
    for n in range(5):
        (await log.record(read_entry(n))).unwrap()
    await log.close()
    outcome = await chain_for_tests(database).seal_pending()
    assert (outcome.sealed, outcome.refused) == (5, [])
    report = await chain_for_tests(database).verify()
    assert (report.sealed, report.intact) == (5, True)


async def test_close_writes_what_is_still_waiting(database: Database) -> None:
    log = make_log(database)  # the interval alone would not flush for a minute
    log.start()
    entries = [read_entry(n) for n in range(7)]
    for entry in entries:
        (await log.record(entry)).unwrap()
    await log.close()
    assert {row.id for row in await stored(database)} == {entry.id for entry in entries}
    # A record arriving after close (a request finishing during shutdown) is written at once.
    late = read_entry(99)
    assert await log.record(late) == Success(None)
    assert late.id in {row.id for row in await stored(database)}


class GatedLog(BufferedReadAuditLog):
    """Holds every INSERT until the gate opens: a flush that takes as long as a test wants."""

    def __init__(self, gate: asyncio.Event, **options: Any) -> None:
        super().__init__(**options)
        self.gate = gate

    async def _insert(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        await self.gate.wait()
        await super()._insert(session, rows)


async def test_a_full_buffer_makes_reads_wait_for_room(database: Database) -> None:
    gate = asyncio.Event()
    log = GatedLog(
        gate,
        database=database,
        signer=signer_for_tests(),
        logger=RecordingLogger(),
        capacity=4,
        flush_interval=0.01,
        max_wait=30.0,
    )
    log.start()
    for n in range(4):
        (await log.record(read_entry(n))).unwrap()
    waiting = asyncio.create_task(log.record(read_entry(4)))
    await asyncio.sleep(0.3)
    # Full: the four in flight still count, so the fifth read waits (nothing dropped, no growth).
    assert not waiting.done()
    assert log.waiting == 4
    gate.set()
    assert await asyncio.wait_for(waiting, timeout=30) == Success(None)
    await log.close()
    assert len(await stored(database)) == 5


async def test_reads_fail_with_503_when_the_buffer_is_full_and_the_database_refuses(
    database: Database, database_url: str
) -> None:
    # Writes to the audit table are blocked (a writer holds the lock); the short waits make
    # each flush attempt fail quickly, as a database that refuses writes would.
    impatient = Database(database_url, sqlite_busy_timeout_ms=50, statement_timeout=0.2)
    logger = RecordingLogger()
    log = make_log(impatient, capacity=2, flush_interval=0.02, max_wait=0.5, logger=logger)
    try:
        async with hold_write_lock(database_url):
            log.start()
            (await log.record(read_entry(1))).unwrap()
            (await log.record(read_entry(2))).unwrap()
            refused = await log.record(read_entry(3))
            assert isinstance(refused, Failure)
            assert isinstance(refused.error, DatabaseUnavailableError)
            assert log.waiting == 2  # the two accepted records are kept for the retry
        # The lock is gone: the flusher's next retry writes the two accepted records.
        for _ in range(200):
            if log.waiting == 0:
                break
            await asyncio.sleep(0.05)
        assert [row.trace_id for row in await stored(impatient)] == ["trace-1", "trace-2"]
        assert logger.find("read_audit_flush_failed")
        assert await log.record(read_entry(4)) == Success(None)
    finally:
        await log.close()
        await impatient.close()


async def test_a_record_the_database_refuses_is_reported_and_blocks_nothing(
    database: Database,
) -> None:
    logger = RecordingLogger()
    log = make_log(database, logger=logger)
    (await log.record(read_entry(1))).unwrap()
    await install_failing_insert_trigger(database, "audit_logs")
    result = await log.flush()
    assert result == Success(1)  # handled: not retried forever
    assert log.waiting == 0
    [lost] = logger.find("read_audit_record_lost")
    assert lost.fields["trace_id"] == "trace-1"
    await log.close()


@pytest.mark.parametrize("backend", ["postgresql"])  # a PostgreSQL setting
async def test_postgresql_flushes_with_synchronous_commit_off(database: Database) -> None:
    seen: list[str] = []

    class Observed(BufferedReadAuditLog):
        async def _insert(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
            await super()._insert(session, rows)
            seen.append(str((await session.execute(text("SHOW synchronous_commit"))).scalar()))

    log = Observed(database=database, signer=signer_for_tests(), logger=RecordingLogger())
    (await log.record(read_entry())).unwrap()
    (await log.flush()).unwrap()
    assert seen == ["off"]
    # LOCAL to the flush: the next transaction on the pool commits synchronously again.
    async with database.transaction() as session:
        assert (await session.execute(text("SHOW synchronous_commit"))).scalar() == "on"
    await log.close()


class UnattendedLog(BufferedReadAuditLog):
    """No background flusher: the test decides when records are written."""

    def _ensure_running(self) -> None:
        self._bind()


async def test_a_read_waiting_for_room_is_not_passed_over_by_a_later_read(
    database: Database,
) -> None:
    log = UnattendedLog(
        database=database, signer=signer_for_tests(), logger=RecordingLogger(), capacity=1
    )
    (await log.record(read_entry(0))).unwrap()
    first = asyncio.create_task(log.record(read_entry(1)))
    await asyncio.sleep(0.05)
    assert not first.done()  # full: it waits for room
    await log.flush()  # room for one, and the waiting read is woken (it has not run yet)
    # A read arriving now, before the woken one has run, queues behind it instead of taking
    # its room (the woken read would find the buffer full again and wait on, up to max_wait).
    asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(log.flush()))
    assert await log.record(read_entry(2)) == Success(None)
    assert first.done()
    assert first.result() == Success(None)
    await log.close()
    assert [row.trace_id for row in await stored(database)] == ["trace-0", "trace-1", "trace-2"]
