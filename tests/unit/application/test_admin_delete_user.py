"""AdminDeleteUserHandler: every path, against the in-memory unit of work."""

from __future__ import annotations

from uuid import UUID

import pytest

from dashtam.application.users.commands import AdminDeleteUser
from dashtam.application.users.handlers import AdminDeleteUserHandler
from dashtam.core.errors import AuthorizationError, ConflictError, Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserDeleted
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeStore, RecordingLogger
from tests.unit.application.conftest import make_user


@pytest.fixture
def admin(store: FakeStore) -> User:
    user = make_user("admin@example.com", role=Role.ADMIN)
    store.seed(user)
    return user


@pytest.fixture
def target(store: FakeStore) -> User:
    user = make_user("target@example.com")
    store.seed(user)
    return user


@pytest.fixture
def handler(store: FakeStore, logger: RecordingLogger) -> AdminDeleteUserHandler:
    return AdminDeleteUserHandler(uow_factory=store.uow, logger=logger)


async def delete(
    handler: AdminDeleteUserHandler, user_id: UUID, actor_id: UUID | None
) -> Result[None, Error]:
    context = AuditContext(actor_id=actor_id, ip_address="192.0.2.1", trace_id="t-1")
    return await handler.handle(AdminDeleteUser(user_id=user_id, context=context))


def only_entry(store: FakeStore, outcome: AuditOutcome, reason: str | None) -> AuditEntry:
    assert len(store.audit_log) == 1
    entry = store.audit_log[0]
    assert entry.action is AuditAction.ADMIN_USER_DELETED
    assert entry.outcome is outcome
    assert entry.reason == reason
    return entry


async def test_success_deletes_the_user_with_event_and_audit(
    handler: AdminDeleteUserHandler,
    store: FakeStore,
    admin: User,
    target: User,
    logger: RecordingLogger,
) -> None:
    assert await delete(handler, target.id, admin.id) == Success(None)
    assert target.id not in store.users
    assert admin.id in store.users
    [event] = store.outbox
    assert isinstance(event, UserDeleted)
    assert (event.user_id, event.deleted_by) == (target.id, admin.id)
    assert store.delivered == [event.event_id]
    entry = only_entry(store, AuditOutcome.SUCCEEDED, None)
    assert dict(entry.metadata) == {"deleted_email": "target@example.com"}
    assert (entry.actor_id, entry.resource_id) == (admin.id, target.id)
    assert (entry.ip_address, entry.trace_id) == ("192.0.2.1", "t-1")
    assert "admin_user_deleted" in logger.events("info")


async def test_non_admin_actor_is_denied(
    handler: AdminDeleteUserHandler, store: FakeStore, target: User
) -> None:
    actor = make_user("plain@example.com")
    store.seed(actor)
    result = await delete(handler, target.id, actor.id)
    assert isinstance(result, Failure)
    assert isinstance(result.error, AuthorizationError)
    assert target.id in store.users
    assert store.outbox == []
    entry = only_entry(store, AuditOutcome.DENIED, "forbidden")
    assert (entry.actor_id, entry.resource_id) == (actor.id, target.id)


async def test_deactivated_admin_is_denied(
    handler: AdminDeleteUserHandler, store: FakeStore, target: User
) -> None:
    actor = make_user("former-admin@example.com", role=Role.ADMIN)
    actor.is_active = False
    store.seed(actor)
    result = await delete(handler, target.id, actor.id)
    assert isinstance(result, Failure)
    assert isinstance(result.error, AuthorizationError)
    assert target.id in store.users
    only_entry(store, AuditOutcome.DENIED, "forbidden")


@pytest.mark.parametrize("actor_id", [None, new_id()], ids=["no-actor", "unknown-actor"])
async def test_missing_or_unknown_actor_is_denied(
    handler: AdminDeleteUserHandler, store: FakeStore, target: User, actor_id: UUID | None
) -> None:
    result = await delete(handler, target.id, actor_id)
    assert isinstance(result, Failure)
    assert isinstance(result.error, AuthorizationError)
    assert target.id in store.users
    entry = only_entry(store, AuditOutcome.DENIED, "forbidden")
    assert entry.actor_id == actor_id


async def test_self_deletion_is_a_conflict(
    handler: AdminDeleteUserHandler, store: FakeStore, admin: User
) -> None:
    result = await delete(handler, admin.id, admin.id)
    assert isinstance(result, Failure)
    assert isinstance(result.error, ConflictError)
    assert result.error.code == "self_deletion"
    assert admin.id in store.users
    assert store.outbox == []
    only_entry(store, AuditOutcome.FAILED, "self_deletion")


async def test_unknown_target_is_not_found(
    handler: AdminDeleteUserHandler, store: FakeStore, admin: User
) -> None:
    missing = new_id()
    result = await delete(handler, missing, admin.id)
    assert isinstance(result, Failure)
    assert isinstance(result.error, NotFoundError)
    assert store.outbox == []
    entry = only_entry(store, AuditOutcome.FAILED, "not_found")
    assert entry.resource_id == missing


async def test_commit_failure_keeps_the_user_and_audits_a_failure(
    handler: AdminDeleteUserHandler, store: FakeStore, admin: User, target: User
) -> None:
    store.fail_next_commit()
    result = await delete(handler, target.id, admin.id)
    assert isinstance(result, Failure)
    assert isinstance(result.error, DatabaseError)
    assert target.id in store.users
    assert store.outbox == []
    assert store.delivered == []
    only_entry(store, AuditOutcome.FAILED, "database_error")


@pytest.mark.parametrize(
    ("operation", "skip"),
    [("get", 0), ("get", 1), ("delete", 0)],
    ids=["actor-lookup", "target-lookup", "delete"],
)
async def test_repository_failure_is_returned_and_audited(
    handler: AdminDeleteUserHandler,
    store: FakeStore,
    admin: User,
    target: User,
    operation: str,
    skip: int,
) -> None:
    store.faults.fail_next(operation, DatabaseError("boom", code="db_down"), skip=skip)
    result = await delete(handler, target.id, admin.id)
    assert isinstance(result, Failure)
    assert result.error.code == "db_down"
    assert target.id in store.users
    assert store.outbox == []
    only_entry(store, AuditOutcome.FAILED, "db_down")
