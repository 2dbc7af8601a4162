"""ListUsersHandler, UpdateUserHandler and DenyAdminAccessHandler."""

from __future__ import annotations

from uuid import UUID

import pytest

from dashtam.application.admin.commands import (
    MAX_PAGE_SIZE,
    DenyAdminAccess,
    ListUsers,
    UpdateUser,
)
from dashtam.application.admin.handlers import (
    DenyAdminAccessHandler,
    ListUsersHandler,
    UpdateUserHandler,
)
from dashtam.application.auth.login import LoginHandler
from dashtam.core.errors import AuthorizationError, ConflictError, Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Result
from dashtam.domain.audit import AuditAction, AuditContext, AuditOutcome
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserUpdatedByAdmin
from dashtam.domain.users.repository import UserFilter
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.read_audit import FakeReadAuditLog
from tests.unit.application.conftest import user_with_password
from tests.unit.application.support import EMAIL, error_of, log_in, login_handler


@pytest.fixture
def admin(store: FakeStore) -> User:
    user = user_with_password("admin@example.com", role=Role.ADMIN)
    store.seed(user)
    return user


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def context(admin: User) -> AuditContext:
    return AuditContext(actor_id=admin.id, ip_address="192.0.2.50", trace_id="admin-trace")


@pytest.fixture
def update(store: FakeStore, logger: RecordingLogger, clock: FakeClock) -> UpdateUserHandler:
    return UpdateUserHandler(uow_factory=store.uow, logger=logger, clock=clock)


@pytest.fixture
def login(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock)


async def list_users(
    store: FakeStore,
    context: AuditContext,
    criteria: UserFilter | None = None,
    *,
    after: UUID | None = None,
    limit: int = 20,
) -> list[User]:
    command = ListUsers(
        criteria=criteria or UserFilter(), after=after, limit=limit, context=context
    )
    handler = ListUsersHandler(uow_factory=store.uow, audit_log=FakeReadAuditLog(store))
    return list((await handler.handle(command)).unwrap())


async def change(
    handler: UpdateUserHandler, context: AuditContext, user_id: UUID, **fields: object
) -> Result[User, Error]:
    return await handler.handle(UpdateUser(user_id=user_id, context=context, **fields))  # type: ignore[arg-type]


# -- ListUsersHandler --------------------------------------------------------------------------


async def test_list_filters_and_audits_the_read(
    store: FakeStore, context: AuditContext, admin: User, person: User
) -> None:
    store.seed(user_with_password("idle@example.org", is_active=False))
    found = await list_users(store, context, UserFilter(email_contains="EXAMPLE.COM"))
    assert [u.id for u in found] == [admin.id, person.id]
    assert [
        u.email.value for u in await list_users(store, context, UserFilter(is_active=False))
    ] == ["idle@example.org"]
    assert [u.id for u in await list_users(store, context, UserFilter(role=Role.ADMIN))] == [
        admin.id
    ]

    listed = store.audit_entries(action=AuditAction.ADMIN_USERS_LISTED)
    assert [e.outcome for e in listed] == [AuditOutcome.SUCCEEDED] * 3
    assert {e.actor_id for e in listed} == {admin.id}
    assert dict(listed[0].metadata) == {
        "email_contains": "EXAMPLE.COM",
        "role": None,
        "is_active": None,
        "returned": 2,
    }
    assert dict(listed[2].metadata)["role"] == "admin"


async def test_list_pages_with_a_cursor(
    store: FakeStore, context: AuditContext, admin: User
) -> None:
    others = [user_with_password(f"user{n}@example.com") for n in range(5)]
    store.seed(*others)
    everyone = [admin, *others]
    first = await list_users(store, context, limit=4)
    second = await list_users(store, context, after=first[-1].id, limit=4)
    assert [u.id for u in first + second] == [u.id for u in everyone]
    assert await list_users(store, context, after=second[-1].id, limit=4) == []


@pytest.mark.parametrize(("asked", "served"), [(0, 1), (-5, 1), (1000, MAX_PAGE_SIZE)])
async def test_the_page_size_is_clamped(
    store: FakeStore, context: AuditContext, admin: User, asked: int, served: int
) -> None:
    store.seed(*(user_with_password(f"bulk{n}@example.com") for n in range(MAX_PAGE_SIZE + 5)))
    assert len(await list_users(store, context, limit=asked)) == served


# -- UpdateUserHandler -------------------------------------------------------------------------


async def test_promoting_a_user_is_stored_with_event_and_audit(
    update: UpdateUserHandler, store: FakeStore, context: AuditContext, admin: User, person: User
) -> None:
    updated = (await change(update, context, person.id, role=Role.ADMIN)).unwrap()
    assert (updated.role, updated.version) == (Role.ADMIN, 2)
    assert store.users[person.id].role is Role.ADMIN
    changes = {"role": {"from": "user", "to": "admin"}}
    [event] = store.events_of(UserUpdatedByAdmin)
    assert (event.user_id, event.updated_by, event.changes) == (person.id, admin.id, changes)  # type: ignore[attr-defined]
    entry = store.audit_log[-1]
    assert (entry.action, entry.outcome, entry.resource_id, entry.actor_id) == (
        AuditAction.ADMIN_USER_UPDATED,
        AuditOutcome.SUCCEEDED,
        person.id,
        admin.id,
    )
    assert dict(entry.metadata) == {"changes": changes}


async def test_deactivation_ends_every_session_and_blocks_log_in(
    update: UpdateUserHandler,
    login: LoginHandler,
    store: FakeStore,
    context: AuditContext,
    person: User,
) -> None:
    pairs = [(await log_in(login)).unwrap() for _ in range(2)]
    (await change(update, context, person.id, is_active=False)).unwrap()
    assert store.users[person.id].is_active is False
    assert {store.sessions[p.session_id].revoked_reason for p in pairs} == {"deactivated"}
    assert error_of(await log_in(login)).code == "invalid_credentials"
    [entry] = store.audit_entries(action=AuditAction.ADMIN_USER_UPDATED)
    assert dict(entry.metadata) == {"changes": {"is_active": {"from": True, "to": False}}}

    (await change(update, context, person.id, is_active=True)).unwrap()  # reactivation
    (await log_in(login)).unwrap()


async def test_demotion_does_not_end_sessions(
    update: UpdateUserHandler, login: LoginHandler, store: FakeStore, context: AuditContext
) -> None:
    other_admin = user_with_password("second.admin@example.com", role=Role.ADMIN)
    store.seed(other_admin)
    pair = (await log_in(login, "second.admin@example.com")).unwrap()
    (await change(update, context, other_admin.id, role=Role.USER)).unwrap()
    assert store.sessions[pair.session_id].revoked_at is None
    assert store.users[other_admin.id].role is Role.USER


async def test_an_admin_cannot_change_themself(
    update: UpdateUserHandler, store: FakeStore, context: AuditContext, admin: User
) -> None:
    error = error_of(await change(update, context, admin.id, is_active=False))
    assert isinstance(error, ConflictError)
    assert error.code == "self_modification"
    assert store.users[admin.id].is_active is True
    entry = store.audit_log[-1]
    assert (entry.action, entry.outcome, entry.reason, entry.resource_id) == (
        AuditAction.ADMIN_USER_UPDATED,
        AuditOutcome.FAILED,
        "self_modification",
        admin.id,
    )


async def test_unknown_and_closed_users_are_not_found(
    update: UpdateUserHandler,
    store: FakeStore,
    context: AuditContext,
    person: User,
    clock: FakeClock,
) -> None:
    assert isinstance(
        error_of(await change(update, context, new_id(), role=Role.ADMIN)), NotFoundError
    )
    store.users[person.id].close(clock())
    assert isinstance(
        error_of(await change(update, context, person.id, is_active=True)), NotFoundError
    )
    assert store.users[person.id].is_active is False
    assert [e.reason for e in store.audit_log] == ["not_found", "not_found"]
    assert store.events_of(UserUpdatedByAdmin) == []


@pytest.mark.parametrize("fields", [{}, {"role": Role.USER}, {"is_active": True}])
async def test_a_change_to_the_current_values_writes_nothing(
    update: UpdateUserHandler,
    store: FakeStore,
    context: AuditContext,
    person: User,
    fields: dict[str, object],
) -> None:
    unchanged = (await change(update, context, person.id, **fields)).unwrap()
    assert unchanged.version == 1
    assert store.users[person.id].version == 1
    assert store.events_of(UserUpdatedByAdmin) == []
    assert store.commits == 0


# -- DenyAdminAccessHandler --------------------------------------------------------------------


async def test_denied_access_is_audited(store: FakeStore, person: User) -> None:
    context = AuditContext(actor_id=person.id, ip_address="192.0.2.77", trace_id="t-deny")
    result = await DenyAdminAccessHandler(uow_factory=store.uow).handle(
        DenyAdminAccess(path="/api/v1/admin/users?" + "x" * 500, context=context)
    )
    error = error_of(result)
    assert isinstance(error, AuthorizationError)
    assert error.code == "forbidden"
    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.reason) == (
        AuditAction.ADMIN_ACCESS_DENIED,
        AuditOutcome.DENIED,
        "not_an_admin",
    )
    assert (entry.actor_id, entry.ip_address, entry.trace_id) == (person.id, "192.0.2.77", "t-deny")
    assert len(entry.metadata["path"]) == 200
    assert entry.metadata["path"].startswith("/api/v1/admin/users?")
