"""The audited-read policy of ``ReadRunner``, over the fake unit of work and read log."""

from __future__ import annotations

from dashtam.application.lifecycle import Audits, ReadRunner
from dashtam.application.reads import ReadUnitOfWork
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditOutcome, ResourceType
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeStore
from tests.fakes.read_audit import FakeReadAuditLog

READS = Audits(action=AuditAction.FINANCIAL_DATA_READ, resource_type=ResourceType.ACCOUNT)


def runner(store: FakeStore) -> ReadRunner:
    return ReadRunner(store.uow, audit_log=FakeReadAuditLog(store))


async def test_a_read_is_answered_once_its_record_is_accepted(store: FakeStore) -> None:
    note = READS.note(AuditContext(), resource_id=new_id(), view="account")

    async def read(uow: ReadUnitOfWork) -> Result[int, Error]:
        note.on_success(count=3)
        return Success(3)

    assert await runner(store).read(note, read) == Success(3)
    [entry] = store.audit_log
    assert (entry.outcome, dict(entry.metadata)) == (
        AuditOutcome.SUCCEEDED,
        {"view": "account", "count": 3},
    )
    assert store.commits == 0, "a read commits nothing itself"


async def test_a_probe_for_what_is_not_the_callers_is_recorded(store: FakeStore) -> None:
    note = READS.note(AuditContext(), resource_id=new_id(), view="account")

    async def read(uow: ReadUnitOfWork) -> Result[int, Error]:
        return Failure(NotFoundError("account not found"))

    assert isinstance(await runner(store).read(note, read), Failure)
    [entry] = store.audit_log
    assert (entry.outcome, entry.reason, entry.resource_id) == (
        AuditOutcome.FAILED,
        "not_found",
        note.resource_id,
    )


async def test_a_read_the_database_failed_is_not_recorded(store: FakeStore) -> None:
    async def read(uow: ReadUnitOfWork) -> Result[int, Error]:
        return Failure(DatabaseError("gone", code="database_unavailable"))

    note = READS.note(AuditContext())
    result = await runner(store).read(note, read)
    assert isinstance(result, Failure)
    assert result.error.code == "database_unavailable"
    assert store.audit_log == []


async def test_no_record_no_answer(store: FakeStore) -> None:
    store.faults.fail_next("read_audit.record", DatabaseError("full", code="database_unavailable"))

    async def read(uow: ReadUnitOfWork) -> Result[int, Error]:
        return Success(1)

    result = await runner(store).read(READS.note(AuditContext()), read)
    assert isinstance(result, Failure)
    assert result.error.code == "database_unavailable"


async def test_an_unaudited_read_records_nothing_either_way(store: FakeStore) -> None:
    async def missing(uow: ReadUnitOfWork) -> Result[int, Error]:
        return Failure(NotFoundError("no"))

    assert isinstance(await ReadRunner(store.uow).read(None, missing), Failure)
    assert store.audit_log == []
