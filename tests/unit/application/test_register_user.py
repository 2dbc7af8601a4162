"""RegisterUserHandler: every path, against the in-memory unit of work."""

from __future__ import annotations

import pytest

from dashtam.application.users.commands import RegisterUser
from dashtam.application.users.handlers import RegisterUserHandler
from dashtam.core.errors import ConflictError, Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakePasswordHasher, FakeStore, FakeUnitOfWork, RecordingLogger
from tests.unit.application.conftest import make_user

PASSWORD = "correct horse battery staple"
CONTEXT = AuditContext(ip_address="198.51.100.7", user_agent="pytest", trace_id="trace-42")


@pytest.fixture
def handler(
    store: FakeStore, hasher: FakePasswordHasher, logger: RecordingLogger
) -> RegisterUserHandler:
    return RegisterUserHandler(uow_factory=store.uow, hasher=hasher, logger=logger)


async def register(
    handler: RegisterUserHandler, email: str = "New.User@Example.com", password: str = PASSWORD
) -> Result[User, Error]:
    return await handler.handle(RegisterUser(email=email, password=password, context=CONTEXT))


def only_failure_entry(store: FakeStore, reason: str) -> AuditEntry:
    """The use case left exactly one audit record: a FAILED registration with ``reason``."""
    assert len(store.audit_log) == 1
    entry = store.audit_log[0]
    assert entry.action is AuditAction.USER_REGISTRATION_FAILED
    assert entry.outcome is AuditOutcome.FAILED
    assert entry.reason == reason
    assert (entry.ip_address, entry.trace_id) == ("198.51.100.7", "trace-42")
    assert PASSWORD not in repr(entry)
    return entry


async def test_success_stores_the_user_with_a_hashed_password(
    handler: RegisterUserHandler, store: FakeStore, logger: RecordingLogger
) -> None:
    result = await register(handler)
    assert isinstance(result, Success)
    user = result.value
    assert user.email.value == "new.user@example.com"
    assert (user.role, user.is_active, user.version) == (Role.USER, True, 1)
    assert store.users == {user.id: user}
    assert user.password_hash == "fake$" + PASSWORD[::-1]
    assert PASSWORD not in user.password_hash
    assert store.commits == 1
    assert "user_registered" in logger.events("info")


async def test_success_commits_the_event_and_a_succeeded_audit_without_the_password(
    handler: RegisterUserHandler, store: FakeStore
) -> None:
    user = (await register(handler)).unwrap()
    assert store.outbox == [
        UserRegistered(
            event_id=store.outbox[0].event_id,
            occurred_at=store.outbox[0].occurred_at,
            user_id=user.id,
            email="new.user@example.com",
        )
    ]
    assert store.delivered == [store.outbox[0].event_id]
    [entry] = store.audit_log
    assert entry.action is AuditAction.USER_REGISTERED
    assert entry.outcome is AuditOutcome.SUCCEEDED
    assert (entry.resource_id, entry.actor_id) == (user.id, user.id)
    assert dict(entry.metadata) == {"email": "new.user@example.com", "role": "user"}
    assert entry.user_agent == "pytest"
    assert PASSWORD not in repr(entry)
    assert user.password_hash not in repr(entry)


async def test_admin_role_is_kept(handler: RegisterUserHandler, store: FakeStore) -> None:
    command = RegisterUser(email="boss@example.com", password=PASSWORD, role=Role.ADMIN)
    user = (await handler.handle(command)).unwrap()
    assert store.users[user.id].role is Role.ADMIN


@pytest.mark.parametrize("email", ["not-an-email", "", "  ", "a@b"])
async def test_invalid_email_stores_nothing_and_audits_a_failure(
    handler: RegisterUserHandler, store: FakeStore, hasher: FakePasswordHasher, email: str
) -> None:
    result = await register(handler, email=email)
    assert isinstance(result, Failure)
    assert isinstance(result.error, ValidationError)
    assert store.users == {}
    assert store.outbox == []
    assert hasher.hash_calls == 0
    entry = only_failure_entry(store, "validation_error")
    assert dict(entry.metadata) == {}


@pytest.mark.parametrize(
    ("password", "code"),
    [("short pass", "password_too_short"), ("x1" * 65, "password_too_long")],
)
async def test_password_outside_policy_stores_nothing(
    handler: RegisterUserHandler,
    store: FakeStore,
    hasher: FakePasswordHasher,
    password: str,
    code: str,
) -> None:
    result = await register(handler, password=password)
    assert isinstance(result, Failure)
    assert result.error.code == code
    assert store.users == {}
    assert store.outbox == []
    assert hasher.hash_calls == 0
    entry = only_failure_entry(store, code)
    assert dict(entry.metadata) == {"email": "new.user@example.com"}
    assert password not in repr(entry)


@pytest.mark.parametrize("email", ["taken@example.com", "  TAKEN@Example.COM "])
async def test_duplicate_email_is_a_conflict(
    handler: RegisterUserHandler, store: FakeStore, email: str
) -> None:
    existing = make_user("taken@example.com")
    store.seed(existing)
    result = await register(handler, email=email)
    assert isinstance(result, Failure)
    assert isinstance(result.error, ConflictError)
    assert result.error.code == "email_taken"
    assert list(store.users) == [existing.id]
    assert store.outbox == []
    entry = only_failure_entry(store, "email_taken")
    assert dict(entry.metadata) == {"email": "taken@example.com"}


async def test_commit_failure_leaves_no_user_no_event_and_a_failed_audit(
    handler: RegisterUserHandler, store: FakeStore, logger: RecordingLogger
) -> None:
    store.fail_next_commit()
    result = await register(handler)
    assert isinstance(result, Failure)
    assert isinstance(result.error, DatabaseError)
    assert store.users == {}
    assert store.outbox == []
    assert store.delivered == []
    assert store.audit_entries(outcome=AuditOutcome.SUCCEEDED) == []
    only_failure_entry(store, "database_error")
    assert "user_registered" not in logger.events()


@pytest.mark.parametrize("operation", ["find_by_email", "add"])
async def test_repository_failure_is_returned_and_audited(
    handler: RegisterUserHandler, store: FakeStore, operation: str
) -> None:
    store.faults.fail_next(operation, DatabaseError("database unavailable", code="db_down"))
    result = await register(handler)
    assert isinstance(result, Failure)
    assert result.error.code == "db_down"
    assert store.users == {}
    assert store.outbox == []
    only_failure_entry(store, "db_down")


async def test_lost_race_for_the_email_is_a_conflict_at_commit(
    store: FakeStore, hasher: FakePasswordHasher
) -> None:
    rival = make_user("new.user@example.com")

    class RacingUnitOfWork(FakeUnitOfWork):
        async def commit(self) -> Result[None, Error]:
            # Another registration commits the same email after our check, before our commit.
            store.seed(rival)
            return await super().commit()

    handler = RegisterUserHandler(
        uow_factory=lambda: RacingUnitOfWork(store=store), hasher=hasher, logger=RecordingLogger()
    )
    result = await register(handler)
    assert isinstance(result, Failure)
    assert result.error.code == "email_taken"
    assert list(store.users) == [rival.id]
    assert store.outbox == []
    only_failure_entry(store, "email_taken")
