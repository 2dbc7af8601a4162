"""AuthenticateHandler, ListSessionsHandler and RevokeSessionHandler."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashtam.application.auth.commands import (
    Principal,
    RevokeSession,
    SessionPrincipal,
    TokenPair,
)
from dashtam.application.auth.login import LoginHandler
from dashtam.application.auth.sessions import (
    AuthenticateHandler,
    ListSessionsHandler,
    RevokeSessionHandler,
)
from dashtam.core.errors import NotFoundError
from dashtam.core.ids import new_id
from dashtam.domain.audit import AuditAction, AuditOutcome, ResourceType
from dashtam.domain.auth.events import SessionRevoked
from dashtam.domain.users.entities import User
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT, user_with_password
from tests.unit.application.support import (
    EMAIL,
    authenticate_handler,
    error_of,
    log_in,
    login_handler,
)


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def stranger(store: FakeStore) -> User:
    user = user_with_password("stranger@example.com")
    store.seed(user)
    return user


@pytest.fixture
def login(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock)


@pytest.fixture
def authenticate(
    store: FakeStore, tokens: JwtTokenService, clock: FakeClock
) -> AuthenticateHandler:
    return authenticate_handler(store, tokens, clock)


@pytest.fixture
def revoke(store: FakeStore, logger: RecordingLogger, clock: FakeClock) -> RevokeSessionHandler:
    return RevokeSessionHandler(uow_factory=store.uow, logger=logger, clock=clock)


@pytest.fixture
async def pair(login: LoginHandler, person: User) -> TokenPair:
    return (await log_in(login)).unwrap()


async def principal_of(authenticate: AuthenticateHandler, pair: TokenPair) -> SessionPrincipal:
    principal = (await authenticate.handle(pair.access_token)).unwrap()
    assert isinstance(principal, SessionPrincipal)
    return principal


# -- AuthenticateHandler ---------------------------------------------------------------------


async def test_a_valid_token_gives_the_user_and_session(
    authenticate: AuthenticateHandler, pair: TokenPair, person: User
) -> None:
    principal = await principal_of(authenticate, pair)
    assert principal.user == person
    assert principal.session.id == pair.session_id


async def test_an_expired_token_is_refused(
    authenticate: AuthenticateHandler, pair: TokenPair, clock: FakeClock
) -> None:
    clock.advance(minutes=14)
    assert isinstance(await principal_of(authenticate, pair), Principal)
    clock.advance(minutes=1, seconds=6)  # 15 minutes plus the 5 s leeway
    assert error_of(await authenticate.handle(pair.access_token)).code == "token_expired"


@pytest.mark.parametrize("where", ["signature", "payload"])
async def test_a_tampered_token_is_refused(
    authenticate: AuthenticateHandler, pair: TokenPair, where: str
) -> None:
    header, payload, signature = pair.access_token.split(".")
    if where == "signature":
        signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    else:
        payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    tampered = ".".join((header, payload, signature))
    assert error_of(await authenticate.handle(tampered)).code == "invalid_token"


async def test_garbage_is_refused(authenticate: AuthenticateHandler) -> None:
    assert error_of(await authenticate.handle("not.a.jwt")).code == "invalid_token"
    assert error_of(await authenticate.handle("")).code == "invalid_token"


async def test_a_revoked_session_is_refused_at_once(
    authenticate: AuthenticateHandler, pair: TokenPair, store: FakeStore, clock: FakeClock
) -> None:
    store.sessions[pair.session_id].revoke("logout", clock())
    assert error_of(await authenticate.handle(pair.access_token)).code == "token_revoked"


async def test_using_a_revoked_sessions_token_is_denied_on_the_trail_once_a_minute(
    authenticate: AuthenticateHandler,
    pair: TokenPair,
    store: FakeStore,
    person: User,
    clock: FakeClock,
) -> None:
    store.sessions[pair.session_id].revoke("logout", clock())
    for _ in range(3):
        error_of(await authenticate.handle(pair.access_token, CONTEXT))

    [entry] = store.audit_entries(action=AuditAction.REVOKED_TOKEN_USED)
    assert (entry.outcome, entry.reason) == (AuditOutcome.DENIED, "session_revoked")
    assert (entry.resource_type, entry.resource_id) == (ResourceType.SESSION, pair.session_id)
    assert entry.actor_id == person.id
    assert (entry.ip_address, entry.trace_id) == (CONTEXT.ip_address, CONTEXT.trace_id)
    assert dict(entry.metadata) == {"revoked_because": "logout"}
    assert pair.access_token not in repr(store.audit_log)

    clock.advance(seconds=61)
    error_of(await authenticate.handle(pair.access_token, CONTEXT))
    assert len(store.audit_entries(action=AuditAction.REVOKED_TOKEN_USED)) == 2


async def test_only_a_token_we_signed_can_leave_a_record(
    authenticate: AuthenticateHandler,
    pair: TokenPair,
    store: FakeStore,
    clock: FakeClock,
) -> None:
    store.sessions[pair.session_id].revoke("logout", clock())
    header, payload, signature = pair.access_token.split(".")
    forged = ".".join((header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]))
    before = len(store.audit_log)

    assert error_of(await authenticate.handle(forged, CONTEXT)).code == "invalid_token"
    assert error_of(await authenticate.handle("garbage", CONTEXT)).code == "invalid_token"
    clock.advance(minutes=16)  # the signature holds, but the token has expired
    assert error_of(await authenticate.handle(pair.access_token, CONTEXT)).code == "token_expired"

    assert len(store.audit_log) == before


@pytest.mark.parametrize("change", ["closed", "deactivated", "deleted"])
async def test_a_token_of_a_user_who_can_no_longer_log_in_is_refused(
    authenticate: AuthenticateHandler,
    pair: TokenPair,
    store: FakeStore,
    person: User,
    clock: FakeClock,
    change: str,
) -> None:
    if change == "closed":
        store.users[person.id].close(clock())
    elif change == "deactivated":
        store.users[person.id].is_active = False
    else:
        del store.users[person.id]
    assert error_of(await authenticate.handle(pair.access_token)).code == "token_revoked"


async def test_a_token_naming_another_users_session_is_refused(
    authenticate: AuthenticateHandler,
    login: LoginHandler,
    tokens: JwtTokenService,
    person: User,
    stranger: User,
    clock: FakeClock,
) -> None:
    theirs = (await log_in(login, "stranger@example.com")).unwrap()
    forged = tokens.issue_access_token(user_id=person.id, session_id=theirs.session_id, now=clock())
    assert error_of(await authenticate.handle(forged)).code == "token_revoked"
    unknown = tokens.issue_access_token(user_id=person.id, session_id=new_id(), now=clock())
    assert error_of(await authenticate.handle(unknown)).code == "token_revoked"


# -- ListSessionsHandler ---------------------------------------------------------------------


async def test_list_shows_only_my_active_sessions_newest_first(
    store: FakeStore,
    login: LoginHandler,
    authenticate: AuthenticateHandler,
    revoke: RevokeSessionHandler,
    stranger: User,
    clock: FakeClock,
    pair: TokenPair,
) -> None:
    clock.advance(minutes=1)
    second = (await log_in(login)).unwrap()
    third = (await log_in(login)).unwrap()
    (await log_in(login, "stranger@example.com")).unwrap()
    principal = await principal_of(authenticate, third)
    command = RevokeSession(principal=principal, session_id=second.session_id, context=CONTEXT)
    (await revoke.handle(command)).unwrap()
    listed = (
        await ListSessionsHandler(uow_factory=store.uow, clock=clock).handle(principal)
    ).unwrap()
    assert [s.id for s in listed] == [third.session_id, pair.session_id]
    assert listed[0].ip_address == "198.51.100.7"
    assert listed[0].user_agent == "pytest/1.0"


# -- RevokeSessionHandler --------------------------------------------------------------------


async def test_revoking_another_of_my_sessions(
    revoke: RevokeSessionHandler,
    authenticate: AuthenticateHandler,
    login: LoginHandler,
    store: FakeStore,
    pair: TokenPair,
    person: User,
) -> None:
    other = (await log_in(login)).unwrap()
    principal = await principal_of(authenticate, pair)
    command = RevokeSession(principal=principal, session_id=other.session_id, context=CONTEXT)
    (await revoke.handle(command)).unwrap()

    assert store.sessions[other.session_id].revoked_reason == "revoked_by_user"
    entry = store.audit_log[-1]
    assert error_of(await authenticate.handle(other.access_token)).code == "token_revoked"
    assert isinstance(await principal_of(authenticate, pair), Principal)  # mine still works
    [event] = store.events_of(SessionRevoked)
    assert (event.session_id, event.reason) == (other.session_id, "revoked_by_user")  # type: ignore[attr-defined]
    assert (entry.action, entry.outcome, entry.resource_type, entry.resource_id) == (
        AuditAction.SESSION_REVOKED,
        AuditOutcome.SUCCEEDED,
        ResourceType.SESSION,
        other.session_id,
    )
    assert entry.actor_id == person.id


async def test_revoking_the_current_session_is_a_logout(
    revoke: RevokeSessionHandler,
    authenticate: AuthenticateHandler,
    store: FakeStore,
    pair: TokenPair,
) -> None:
    principal = await principal_of(authenticate, pair)
    command = RevokeSession(principal=principal, session_id=pair.session_id, context=CONTEXT)
    (await revoke.handle(command)).unwrap()
    assert store.sessions[pair.session_id].revoked_reason == "logout"
    entry = store.audit_log[-1]
    assert (entry.action, entry.outcome) == (AuditAction.USER_LOGGED_OUT, AuditOutcome.SUCCEEDED)
    assert error_of(await authenticate.handle(pair.access_token)).code == "token_revoked"


async def test_another_users_session_is_not_found_and_untouched(
    revoke: RevokeSessionHandler,
    authenticate: AuthenticateHandler,
    login: LoginHandler,
    store: FakeStore,
    pair: TokenPair,
    stranger: User,
) -> None:
    theirs = (await log_in(login, "stranger@example.com")).unwrap()
    principal = await principal_of(authenticate, pair)
    for session_id in (theirs.session_id, new_id()):
        command = RevokeSession(principal=principal, session_id=session_id, context=CONTEXT)
        error = error_of(await revoke.handle(command))
        assert isinstance(error, NotFoundError)
        entry = store.audit_log[-1]
        assert (entry.action, entry.outcome, entry.reason) == (
            AuditAction.SESSION_REVOKED,
            AuditOutcome.FAILED,
            "not_found",
        )
    assert store.sessions[theirs.session_id].revoked_at is None
    assert store.events_of(SessionRevoked) == []


async def test_an_already_revoked_session_is_not_found(
    revoke: RevokeSessionHandler,
    authenticate: AuthenticateHandler,
    login: LoginHandler,
    store: FakeStore,
    pair: TokenPair,
) -> None:
    other = (await log_in(login)).unwrap()
    principal = await principal_of(authenticate, pair)
    command = RevokeSession(principal=principal, session_id=other.session_id, context=CONTEXT)
    (await revoke.handle(command)).unwrap()
    assert isinstance(error_of(await revoke.handle(command)), NotFoundError)
    assert len(store.events_of(SessionRevoked)) == 1


async def test_access_token_lifetime_is_fifteen_minutes(
    pair: TokenPair, tokens: JwtTokenService, clock: FakeClock
) -> None:
    claims = tokens.verify_access_token(pair.access_token, now=clock()).unwrap()
    assert claims.expires_at == clock() + timedelta(minutes=15)
