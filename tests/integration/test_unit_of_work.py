"""The SQL unit of work: change, audit and outbox in one transaction; failures audited apart."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from dashtam.core.errors import InfrastructureError
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.outbox import OutboxEventModel
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.audit_keys import signer_for_tests
from tests.integration.helpers import count_rows, install_failing_insert_trigger


def _uow(database: Database, delivered: list[UUID] | None = None) -> SqlUnitOfWork:
    async def on_committed(ids: Sequence[UUID]) -> None:
        if delivered is not None:
            delivered.extend(ids)

    return SqlUnitOfWork(
        database=database,
        logger=get_logger("test"),
        signer=signer_for_tests(),
        on_committed=on_committed,
    )


def _entry(outcome: AuditOutcome, resource_id: UUID | None = None) -> AuditEntry:
    return AuditEntry(
        action=AuditAction.USER_REGISTERED,
        outcome=outcome,
        resource_type=ResourceType.USER,
        resource_id=resource_id,
    )


async def _register(uow: SqlUnitOfWork, email: str) -> User:
    user = User(email=Email(email), password_hash="hash")
    added = await uow.users.add(user)
    assert isinstance(added, Success)
    uow.raise_event(UserRegistered(user_id=user.id, email=email))
    uow.audit(_entry(AuditOutcome.SUCCEEDED, user.id))
    return user


async def test_commit_writes_change_audit_and_outbox_together(database: Database) -> None:
    delivered: list[UUID] = []
    async with _uow(database, delivered) as uow:
        user = await _register(uow, "one@example.com")
        assert isinstance(await uow.commit(), Success)
    assert await count_rows(database, UserModel.__table__) == 1
    assert await count_rows(database, AuditLogModel.__table__, AuditLogModel.resource_id == user.id)
    outbox = await count_rows(database, OutboxEventModel.__table__)
    assert outbox == 1
    assert len(delivered) == 1, "committed events are handed to the bus after commit"


async def test_leaving_without_commit_rolls_everything_back(database: Database) -> None:
    delivered: list[UUID] = []
    async with _uow(database, delivered) as uow:
        await _register(uow, "nocommit@example.com")
    assert await count_rows(database, UserModel.__table__) == 0
    assert await count_rows(database, AuditLogModel.__table__) == 0
    assert await count_rows(database, OutboxEventModel.__table__) == 0
    assert delivered == []


async def test_failed_commit_leaves_no_business_audit_or_outbox_row(database: Database) -> None:
    await install_failing_insert_trigger(database, "event_outbox")
    delivered: list[UUID] = []
    async with _uow(database, delivered) as uow:
        user = await _register(uow, "fails@example.com")
        committed = await uow.commit()
        assert isinstance(committed, Failure)
        assert isinstance(committed.error, InfrastructureError)
        recorded = await uow.record_failure(_entry(AuditOutcome.FAILED, user.id))
        assert isinstance(recorded, Success)

    assert await count_rows(database, UserModel.__table__) == 0
    assert await count_rows(database, OutboxEventModel.__table__) == 0
    assert (
        await count_rows(
            database, AuditLogModel.__table__, AuditLogModel.outcome == AuditOutcome.SUCCEEDED
        )
        == 0
    )
    assert (
        await count_rows(
            database, AuditLogModel.__table__, AuditLogModel.outcome == AuditOutcome.FAILED
        )
        == 1
    )
    assert delivered == []


async def test_record_failure_discards_pending_work(database: Database) -> None:
    async with _uow(database) as uow:
        await _register(uow, "pending@example.com")
        await uow.record_failure(_entry(AuditOutcome.DENIED))
    assert await count_rows(database, UserModel.__table__) == 0
    assert await count_rows(database, AuditLogModel.__table__) == 1


async def test_stale_version_from_a_concurrent_writer_is_a_conflict(database: Database) -> None:
    async with _uow(database) as uow:
        user = await _register(uow, "race@example.com")
        assert isinstance(await uow.commit(), Success)

    async with _uow(database) as first:
        loaded = await first.users.get(user.id)
        assert isinstance(loaded, Success)
        assert loaded.value is not None
        stale_copy = loaded.value
        stale_copy.is_active = False
        updated = await first.users.update(stale_copy)
        assert isinstance(updated, Success)
        assert updated.value.version == 2
        assert isinstance(await first.commit(), Success)

    async with _uow(database) as second:
        stale_copy.version = 1  # what a second client read before the first one wrote
        stale_copy.role = stale_copy.role
        result = await second.users.update(stale_copy)
        assert isinstance(result, Failure)
        assert result.error.code == "stale_version"
