"""RefreshTokensHandler: rotation, theft detection on reuse, expiry, unknown tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashtam.application.auth.commands import RefreshTokens, TokenPair
from dashtam.application.auth.login import LoginHandler, RefreshTokensHandler
from dashtam.application.auth.sessions import AuthenticateHandler
from dashtam.core.errors import AuthenticationError, Error
from dashtam.core.result import Failure, Result
from dashtam.domain.audit import AuditAction, AuditOutcome
from dashtam.domain.auth.entities import SessionPolicy
from dashtam.domain.auth.events import RefreshTokenReuseDetected
from dashtam.domain.users.entities import User
from dashtam.infrastructure.errors import DatabaseError
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
def login(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock)


@pytest.fixture
def handler(
    store: FakeStore, tokens: JwtTokenService, logger: RecordingLogger, clock: FakeClock
) -> RefreshTokensHandler:
    return RefreshTokensHandler(uow_factory=store.uow, tokens=tokens, logger=logger, clock=clock)


@pytest.fixture
def authenticate(
    store: FakeStore, tokens: JwtTokenService, clock: FakeClock
) -> AuthenticateHandler:
    return authenticate_handler(store, tokens, clock)


@pytest.fixture
async def first(login: LoginHandler, person: User) -> TokenPair:
    return (await log_in(login)).unwrap()


async def refresh(handler: RefreshTokensHandler, token: str) -> Result[TokenPair, Error]:
    return await handler.handle(RefreshTokens(refresh_token=token, context=CONTEXT))


async def test_rotation_issues_a_new_pair_for_the_same_session(
    handler: RefreshTokensHandler,
    store: FakeStore,
    first: TokenPair,
    clock: FakeClock,
    tokens: JwtTokenService,
) -> None:
    clock.advance(minutes=20)
    second = (await refresh(handler, first.refresh_token)).unwrap()
    assert second.refresh_token != first.refresh_token
    assert (second.session_id, second.user_id) == (first.session_id, first.user_id)
    assert tokens.verify_access_token(second.access_token, now=clock()).unwrap().session_id == (
        first.session_id
    )
    session = store.sessions[first.session_id]
    assert session.last_used_at == clock()
    by_hash = {t.token_hash: t for t in store.refresh_tokens.values()}
    assert by_hash[tokens.hash_refresh_token(first.refresh_token)].rotated_at == clock()
    assert by_hash[tokens.hash_refresh_token(second.refresh_token)].rotated_at is None
    entry = store.audit_log[-1]
    assert (entry.action, entry.outcome, entry.resource_id) == (
        AuditAction.TOKEN_REFRESHED,
        AuditOutcome.SUCCEEDED,
        first.session_id,
    )
    third = (await refresh(handler, second.refresh_token)).unwrap()  # the new one works
    assert third.session_id == first.session_id


async def test_a_rotated_token_stops_working(
    handler: RefreshTokensHandler, first: TokenPair
) -> None:
    (await refresh(handler, first.refresh_token)).unwrap()
    error = error_of(await refresh(handler, first.refresh_token))
    assert isinstance(error, AuthenticationError)
    assert error.code == "refresh_token_reused"


async def test_reuse_revokes_the_whole_session_and_is_audited_as_denied(
    handler: RefreshTokensHandler,
    authenticate: AuthenticateHandler,
    store: FakeStore,
    first: TokenPair,
    person: User,
) -> None:
    newest = (await refresh(handler, first.refresh_token)).unwrap()  # the thief, say
    error_of(await refresh(handler, first.refresh_token))  # the victim's stale copy

    session = store.sessions[first.session_id]
    assert session.revoked_reason == "refresh_token_reuse"
    assert session.revoked_at is not None
    [event] = store.events_of(RefreshTokenReuseDetected)
    assert (event.user_id, event.session_id) == (person.id, first.session_id)  # type: ignore[attr-defined]
    denied = store.audit_entries(outcome=AuditOutcome.DENIED)
    assert [(e.action, e.reason, e.resource_id, e.actor_id) for e in denied] == [
        (AuditAction.REFRESH_TOKEN_REUSED, "refresh_token_reuse", first.session_id, person.id)
    ]
    # Every token of the family is dead now, the newest included.
    assert error_of(await refresh(handler, newest.refresh_token)).code == "invalid_refresh_token"
    assert error_of(await authenticate.handle(newest.access_token)).code == "token_revoked"
    assert error_of(await authenticate.handle(first.access_token)).code == "token_revoked"


async def test_reuse_ends_only_that_session(
    handler: RefreshTokensHandler, login: LoginHandler, store: FakeStore, first: TokenPair
) -> None:
    other_device = (await log_in(login)).unwrap()
    (await refresh(handler, first.refresh_token)).unwrap()
    error_of(await refresh(handler, first.refresh_token))
    assert store.sessions[other_device.session_id].revoked_at is None
    (await refresh(handler, other_device.refresh_token)).unwrap()


async def test_an_unknown_token_fails_and_is_audited(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair
) -> None:
    error = error_of(await refresh(handler, "made-up-token"))
    assert error.code == "invalid_refresh_token"
    entry = store.audit_log[-1]
    assert (entry.action, entry.outcome, entry.reason, entry.resource_id) == (
        AuditAction.TOKEN_REFRESH_FAILED,
        AuditOutcome.FAILED,
        "unknown_token",
        None,
    )
    assert "made-up-token" not in repr(store.audit_log)


async def test_an_expired_session_cannot_be_refreshed(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair, clock: FakeClock
) -> None:
    clock.advance(hours=1)  # idle for the whole timeout: expires_at is exclusive
    error = error_of(await refresh(handler, first.refresh_token))
    assert error.code == "invalid_refresh_token"
    assert store.audit_log[-1].reason == "session_ended"
    assert store.audit_log[-1].resource_id == first.session_id
    assert store.events_of(RefreshTokenReuseDetected) == []


async def test_an_expired_token_of_a_live_session_is_refused(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair, clock: FakeClock
) -> None:
    [token] = store.refresh_tokens.values()
    store.refresh_tokens[token.id] = type(token)(
        id=token.id,
        session_id=token.session_id,
        token_hash=token.token_hash,
        expires_at=clock() + timedelta(minutes=1),
        created_at=token.created_at,
    )
    clock.advance(minutes=1)
    assert error_of(await refresh(handler, first.refresh_token)).code == "invalid_refresh_token"


async def test_a_revoked_session_cannot_be_refreshed(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair, clock: FakeClock
) -> None:
    store.sessions[first.session_id].revoke("logout", clock())
    assert error_of(await refresh(handler, first.refresh_token)).code == "invalid_refresh_token"
    assert store.audit_log[-1].reason == "session_ended"


async def test_a_deactivated_owner_cannot_refresh_and_the_token_is_not_consumed(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair, person: User
) -> None:
    store.users[person.id].is_active = False
    assert error_of(await refresh(handler, first.refresh_token)).code == "invalid_refresh_token"
    assert store.audit_log[-1].reason == "account_disabled"
    assert all(t.rotated_at is None for t in store.refresh_tokens.values())
    store.users[person.id].is_active = True
    (await refresh(handler, first.refresh_token)).unwrap()


async def test_a_failed_commit_leaves_the_old_token_usable(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair
) -> None:
    store.fail_next_commit(DatabaseError("gone", code="database_unavailable"))
    assert error_of(await refresh(handler, first.refresh_token)).code == "database_unavailable"
    assert len(store.refresh_tokens) == 1
    assert store.audit_log[-1].outcome is AuditOutcome.FAILED
    (await refresh(handler, first.refresh_token)).unwrap()


async def test_the_stored_session_and_its_newest_token_expire_together(
    handler: RefreshTokensHandler,
    store: FakeStore,
    first: TokenPair,
    clock: FakeClock,
    tokens: JwtTokenService,
) -> None:
    clock.advance(minutes=50)
    second = (await refresh(handler, first.refresh_token)).unwrap()
    newest = next(
        t
        for t in store.refresh_tokens.values()
        if t.token_hash == tokens.hash_refresh_token(second.refresh_token)
    )
    assert store.sessions[first.session_id].expires_at == newest.expires_at


async def test_refreshing_never_keeps_a_session_past_its_lifetime(
    handler: RefreshTokensHandler,
    store: FakeStore,
    first: TokenPair,
    clock: FakeClock,
) -> None:
    lifetime = SessionPolicy().lifetime
    token = first.refresh_token
    for _ in range(40):  # a refresh every 50 minutes: never idle, but on past 24 hours
        clock.advance(minutes=50)
        refreshed = await refresh(handler, token)
        if isinstance(refreshed, Failure):
            break
        token = refreshed.value.refresh_token
        session = store.sessions[first.session_id]
        assert session.expires_at <= session.created_at + lifetime
    else:
        raise AssertionError("a session outlived its 24-hour lifetime")
    assert error_of(refreshed).code == "invalid_refresh_token"
    session = store.sessions[first.session_id]
    assert session.expires_at == session.created_at + lifetime


async def test_a_session_idle_past_its_timeout_cannot_be_refreshed(
    handler: RefreshTokensHandler, store: FakeStore, first: TokenPair, clock: FakeClock
) -> None:
    clock.advance(minutes=59)
    token = (await refresh(handler, first.refresh_token)).unwrap().refresh_token
    clock.advance(minutes=61)
    assert error_of(await refresh(handler, token)).code == "invalid_refresh_token"
