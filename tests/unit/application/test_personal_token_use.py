"""A request made with a personal access token, and every way such a token stops working."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dashtam.application.admin.commands import UpdateUser
from dashtam.application.admin.handlers import UpdateUserHandler
from dashtam.application.auth.commands import TokenPrincipal
from dashtam.application.auth.sessions import AuthenticateHandler
from dashtam.application.personal_tokens.commands import (
    CreatePersonalToken,
    IssuedPersonalToken,
    RevokePersonalToken,
)
from dashtam.application.personal_tokens.handlers import PersonalTokenHandlers
from dashtam.application.users.account import CloseAccountHandler
from dashtam.application.users.commands import CloseAccount
from dashtam.domain.audit import AuditAction, AuditContext, AuditOutcome, ResourceType
from dashtam.domain.personal_tokens.entities import TokenScope
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.errors import DatabaseError
from dashtam.infrastructure.security.personal_tokens import HmacPersonalTokenCodec
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.token_usage import RecordingTokenUsage
from tests.unit.application.conftest import CONTEXT, PASSWORD, SECRET, user_with_password
from tests.unit.application.support import EMAIL, authenticate_handler, error_of

DENIED_USE = AuditAction.REVOKED_TOKEN_USED


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def usage() -> RecordingTokenUsage:
    return RecordingTokenUsage()


@pytest.fixture
def authenticate(
    store: FakeStore, tokens: JwtTokenService, clock: FakeClock, usage: RecordingTokenUsage
) -> AuthenticateHandler:
    return authenticate_handler(store, tokens, clock, usage=usage)


@pytest.fixture
def handlers(store: FakeStore, logger: RecordingLogger, clock: FakeClock) -> PersonalTokenHandlers:
    return PersonalTokenHandlers(
        uow_factory=store.uow,
        read_uow_factory=store.uow,
        codec=HmacPersonalTokenCodec(secret_key=SECRET),
        logger=logger,
        clock=clock,
    )


@pytest.fixture
async def issued(handlers: PersonalTokenHandlers, person: User) -> IssuedPersonalToken:
    command = CreatePersonalToken(
        user_id=person.id,
        name="script",
        scopes=("read", "import"),
        expires_in_days=7,
        context=CONTEXT,
    )
    return (await handlers.create(command)).unwrap()


def denied_uses(store: FakeStore) -> list[object]:
    return [
        (e.outcome, e.reason, e.resource_type, e.resource_id, e.actor_id)
        for e in store.audit_entries(action=DENIED_USE)
    ]


async def test_a_token_names_its_owner_and_scopes_and_its_use_is_noted(
    authenticate: AuthenticateHandler,
    issued: IssuedPersonalToken,
    person: User,
    usage: RecordingTokenUsage,
    clock: FakeClock,
) -> None:
    first_use = clock()
    principal = (await authenticate.handle(issued.text, CONTEXT)).unwrap()

    assert isinstance(principal, TokenPrincipal)
    assert (principal.user, principal.token_id) == (person, issued.token.id)
    assert principal.personal_token_id == issued.token.id
    assert principal.grants(TokenScope.READ)
    assert principal.grants(TokenScope.IMPORT)
    assert not principal.grants(TokenScope.WRITE)
    second_use = clock.advance(seconds=3)
    (await authenticate.handle(issued.text, CONTEXT)).unwrap()
    assert usage.uses == [(issued.token.id, first_use), (issued.token.id, second_use)]


async def test_a_revoked_token_is_refused_and_its_use_denied_on_the_trail(
    authenticate: AuthenticateHandler,
    handlers: PersonalTokenHandlers,
    issued: IssuedPersonalToken,
    store: FakeStore,
    person: User,
    usage: RecordingTokenUsage,
    clock: FakeClock,
) -> None:
    revoke = RevokePersonalToken(user_id=person.id, token_id=issued.token.id, context=CONTEXT)
    (await handlers.revoke(revoke)).unwrap()

    for _ in range(3):
        error = error_of(await authenticate.handle(issued.text, CONTEXT))
        assert error.code == "token_revoked"

    token_id = issued.token.id
    assert denied_uses(store) == [
        (AuditOutcome.DENIED, "token_revoked", ResourceType.PERSONAL_TOKEN, token_id, person.id)
    ]
    [entry] = store.audit_entries(action=DENIED_USE)
    assert (entry.ip_address, entry.trace_id) == (CONTEXT.ip_address, CONTEXT.trace_id)
    assert issued.text not in repr(store.audit_log)
    assert usage.uses == []
    clock.advance(minutes=1)  # the same token again, later: recorded again
    error_of(await authenticate.handle(issued.text, CONTEXT))
    assert len(denied_uses(store)) == 2


async def test_an_expired_token_is_refused_and_its_use_denied(
    authenticate: AuthenticateHandler,
    issued: IssuedPersonalToken,
    store: FakeStore,
    clock: FakeClock,
) -> None:
    clock.advance(days=7, seconds=-1)
    (await authenticate.handle(issued.text, CONTEXT)).unwrap()
    clock.advance(seconds=1)

    assert error_of(await authenticate.handle(issued.text, CONTEXT)).code == "token_expired"
    [(outcome, reason, *_)] = denied_uses(store)
    assert (outcome, reason) == (AuditOutcome.DENIED, "token_expired")


@pytest.mark.parametrize("change", ["closed", "deactivated"])
async def test_a_token_stops_at_once_when_its_owner_can_no_longer_sign_in(
    authenticate: AuthenticateHandler,
    issued: IssuedPersonalToken,
    store: FakeStore,
    person: User,
    clock: FakeClock,
    change: str,
) -> None:
    # Straight in the store: even without the revocation the handlers add, the token stops.
    if change == "closed":
        store.users[person.id].close(clock())
    else:
        store.users[person.id].is_active = False

    assert error_of(await authenticate.handle(issued.text, CONTEXT)).code == "token_revoked"
    [(_, reason, *_)] = denied_uses(store)
    assert reason == "account_disabled"


async def test_a_deleted_owners_token_is_unknown(
    authenticate: AuthenticateHandler, issued: IssuedPersonalToken, store: FakeStore, person: User
) -> None:
    del store.users[person.id]
    assert error_of(await authenticate.handle(issued.text, CONTEXT)).code == "invalid_token"
    assert denied_uses(store) == []


async def test_unknown_and_malformed_tokens_are_invalid_and_leave_no_record(
    authenticate: AuthenticateHandler, issued: IssuedPersonalToken, store: FakeStore
) -> None:
    unknown = HmacPersonalTokenCodec(secret_key=SECRET).issue().text
    assert error_of(await authenticate.handle(unknown, CONTEXT)).code == "invalid_token"
    # Malformed: refused before any database work (a planned database fault is never reached).
    store.faults.fail_next("personal_tokens.find_with_user", DatabaseError("down"))
    mistyped = issued.text[:-1] + ("A" if issued.text[-1] != "A" else "B")
    for text in (mistyped, "dtm_pat_", "dtm_pat_" + "é" * 49, "dtm_pat_" + "x" * 100_000):
        assert error_of(await authenticate.handle(text, CONTEXT)).code == "invalid_token"
    assert error_of(await authenticate.handle(issued.text)).code == "database_error"
    assert denied_uses(store) == []


async def test_closing_the_account_revokes_every_token(
    store: FakeStore,
    hasher: FakePasswordHasher,
    logger: RecordingLogger,
    clock: FakeClock,
    issued: IssuedPersonalToken,
    person: User,
) -> None:
    close = CloseAccountHandler(uow_factory=store.uow, hasher=hasher, logger=logger, clock=clock)
    command = CloseAccount(
        user_id=person.id, password=PASSWORD, expected_version=person.version, context=CONTEXT
    )
    (await close.handle(command)).unwrap()

    stored = store.personal_tokens[issued.token.id]
    assert (stored.revoked_at, stored.revoked_reason) == (clock(), "account_closed")


async def test_deactivation_by_an_admin_revokes_every_token_for_good(
    store: FakeStore,
    logger: RecordingLogger,
    clock: FakeClock,
    authenticate: AuthenticateHandler,
    issued: IssuedPersonalToken,
    person: User,
) -> None:
    admin = user_with_password("admin@example.com", role=Role.ADMIN)
    store.seed(admin)
    update = UpdateUserHandler(uow_factory=store.uow, logger=logger, clock=clock)
    context = replace(AuditContext(), actor_id=admin.id)
    (await update.handle(UpdateUser(user_id=person.id, is_active=False, context=context))).unwrap()
    assert store.personal_tokens[issued.token.id].revoked_reason == "deactivated"

    (await update.handle(UpdateUser(user_id=person.id, is_active=True, context=context))).unwrap()
    assert error_of(await authenticate.handle(issued.text, CONTEXT)).code == "token_revoked"
