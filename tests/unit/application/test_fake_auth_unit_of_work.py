"""The fake unit of work stages sessions, refresh tokens and attempts like SqlUnitOfWork does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashtam.core.errors import ConflictError
from dashtam.core.result import Failure, Success
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeClock, FakeStore
from tests.unit.application.conftest import make_user


@pytest.fixture
def session(store: FakeStore, clock: FakeClock) -> AuthSession:
    user = make_user("a@example.com")
    store.seed(user)
    return AuthSession(user_id=user.id, expires_at=clock() + timedelta(days=1))


async def test_auth_writes_are_invisible_to_others_until_commit(
    store: FakeStore, session: AuthSession, clock: FakeClock
) -> None:
    token = RefreshToken(session_id=session.id, token_hash="h" * 64, expires_at=session.expires_at)
    attempt = LoginAttempt(account_key="k", ip_address=None, succeeded=False, created_at=clock())
    async with store.uow() as writer:
        (await writer.sessions.add(session)).unwrap()
        (await writer.refresh_tokens.add(token)).unwrap()
        (await writer.login_attempts.add(attempt)).unwrap()
        async with store.uow() as reader:
            assert await reader.sessions.get(session.id) == Success(None)
            assert await reader.refresh_tokens.find_by_hash("h" * 64) == Success(None)
            since = clock() - timedelta(minutes=1)
            assert await reader.login_attempts.account_failures("k", since=since) == Success([])
        assert (store.sessions, store.refresh_tokens, store.login_attempts) == ({}, {}, {})
        (await writer.commit()).unwrap()
    assert list(store.sessions) == [session.id]
    assert list(store.refresh_tokens) == [token.id]
    assert list(store.login_attempts) == [attempt.id]


async def test_leaving_without_commit_or_with_a_failed_commit_keeps_nothing(
    store: FakeStore, session: AuthSession
) -> None:
    async with store.uow() as uow:
        (await uow.sessions.add(session)).unwrap()
    store.fail_next_commit()
    async with store.uow() as uow:
        (await uow.sessions.add(session)).unwrap()
        assert isinstance(await uow.commit(), Failure)
    assert store.sessions == {}


async def test_two_transactions_rotating_one_token_cannot_both_commit(
    store: FakeStore, session: AuthSession, clock: FakeClock
) -> None:
    store.seed_sessions(session)
    token = RefreshToken(session_id=session.id, token_hash="t" * 64, expires_at=session.expires_at)
    store.refresh_tokens[token.id] = token
    async with store.uow() as first, store.uow() as second:
        assert await first.refresh_tokens.mark_rotated(token.id, now=clock()) == Success(True)
        assert await second.refresh_tokens.mark_rotated(token.id, now=clock()) == Success(True)
        (await first.commit()).unwrap()
        result = await second.commit()
    assert isinstance(result, Failure)
    assert isinstance(result.error, ConflictError)


async def test_concurrent_session_updates_lose_with_stale_version(
    store: FakeStore, session: AuthSession, clock: FakeClock
) -> None:
    store.seed_sessions(session)
    async with store.uow() as first, store.uow() as second:
        mine = (await first.sessions.get(session.id)).unwrap()
        assert mine is not None
        mine.revoke("logout", clock())
        (await first.sessions.update(mine)).unwrap()
        revoked = await second.sessions.revoke_all(session.user_id, reason="x", now=clock())
        assert list(revoked.unwrap()) == [session.id]
        (await first.commit()).unwrap()
        result = await second.commit()
    assert isinstance(result, Failure)
    assert result.error.code == "stale_version"
    assert store.sessions[session.id].revoked_reason == "logout"


async def test_a_failed_write_poisons_the_transaction_until_rollback(
    store: FakeStore, session: AuthSession
) -> None:
    store.seed_sessions(session)
    async with store.uow() as uow:
        assert isinstance(await uow.sessions.add(session), Failure)  # duplicate id
        assert isinstance(await uow.sessions.get(session.id), Failure)
        assert isinstance(await uow.commit(), Failure)
        assert (await uow.sessions.get(session.id)).unwrap() == session  # usable again


async def test_faults_are_injected_by_operation_name(
    store: FakeStore, session: AuthSession
) -> None:
    store.faults.fail_next("sessions.get", DatabaseError("gone", code="database_unavailable"))
    async with store.uow() as uow:
        result = await uow.sessions.get(session.id)
        assert isinstance(result, Failure)
        assert result.error.code == "database_unavailable"
        assert await uow.sessions.get(session.id) == Success(None)


def test_the_fake_clock_moves_only_forward(clock: FakeClock) -> None:
    start = clock()
    assert clock.advance(minutes=2) == start + timedelta(minutes=2)
    assert clock() == start + timedelta(minutes=2)
    assert start.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(seconds=-1)
