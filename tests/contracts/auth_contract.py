"""The ``RefreshTokenRepository`` and ``LoginAttemptRepository`` contracts, written once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from dashtam.core.errors import ConflictError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.session_repository_contract import NOW, add_user, new_session
from tests.contracts.user_repository_contract import assert_utc, error_of


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(session_id: object, raw: str = "opaque-1", **overrides: object) -> RefreshToken:
    fields: dict[str, object] = {
        "session_id": session_id,
        "token_hash": digest(raw),
        "expires_at": NOW + timedelta(days=30),
        "created_at": NOW,
    }
    fields.update(overrides)
    return RefreshToken(**fields)  # type: ignore[arg-type]


async def add_session(repositories: Repositories) -> AuthSession:
    user = await add_user(repositories)
    return (await repositories.sessions.add(new_session(user.id))).unwrap()


class RefreshTokenRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_add_then_find_by_hash_round_trips(self, harness: Harness[Repositories]) -> None:
        session = await add_session(harness.adapter)
        token = new_token(session.id)
        assert await harness.adapter.refresh_tokens.add(token) == Success(token)
        found = await (await harness.reopen()).refresh_tokens.find_by_hash(digest("opaque-1"))
        stored = found.unwrap()
        assert stored == token
        assert stored is not None
        assert_utc(stored.expires_at)
        assert_utc(stored.created_at)

    async def test_unknown_hash_is_none(self, harness: Harness[Repositories]) -> None:
        assert await harness.adapter.refresh_tokens.find_by_hash(digest("nope")) == Success(None)

    async def test_mark_rotated_wins_once_then_reports_false(
        self, harness: Harness[Repositories]
    ) -> None:
        session = await add_session(harness.adapter)
        token = new_token(session.id)
        (await harness.adapter.refresh_tokens.add(token)).unwrap()
        repositories = await harness.reopen()
        used_at = NOW + timedelta(minutes=3)
        assert await repositories.refresh_tokens.mark_rotated(token.id, now=used_at) == Success(
            True
        )
        assert await repositories.refresh_tokens.mark_rotated(token.id, now=used_at) == Success(
            False
        )

        repositories = await harness.reopen()
        assert await repositories.refresh_tokens.mark_rotated(token.id, now=NOW) == Success(False)
        stored = (await repositories.refresh_tokens.find_by_hash(token.token_hash)).unwrap()
        assert stored is not None
        assert stored.rotated_at == used_at
        assert_utc(stored.rotated_at)

    async def test_a_rotation_is_visible_to_find_by_hash_in_the_same_transaction(
        self, harness: Harness[Repositories]
    ) -> None:
        session = await add_session(harness.adapter)
        token = new_token(session.id)
        (await harness.adapter.refresh_tokens.add(token)).unwrap()
        repositories = await harness.reopen()
        loaded = (await repositories.refresh_tokens.find_by_hash(token.token_hash)).unwrap()
        assert loaded is not None
        assert loaded.rotated_at is None
        assert (await repositories.refresh_tokens.mark_rotated(token.id, now=NOW)).unwrap()
        again = (await repositories.refresh_tokens.find_by_hash(token.token_hash)).unwrap()
        assert again is not None
        assert again.rotated_at == NOW

    async def test_mark_rotated_of_an_unknown_token_is_false(
        self, harness: Harness[Repositories]
    ) -> None:
        assert await harness.adapter.refresh_tokens.mark_rotated(new_id(), now=NOW) == Success(
            False
        )

    async def test_a_discarded_rotation_leaves_the_token_usable(
        self, harness: Harness[Repositories]
    ) -> None:
        session = await add_session(harness.adapter)
        token = new_token(session.id)
        (await harness.adapter.refresh_tokens.add(token)).unwrap()
        repositories = await harness.reopen()
        assert (await repositories.refresh_tokens.mark_rotated(token.id, now=NOW)).unwrap()
        repositories = await harness.discard()
        assert await repositories.refresh_tokens.mark_rotated(token.id, now=NOW) == Success(True)

    async def test_a_hash_is_stored_once(self, harness: Harness[Repositories]) -> None:
        session = await add_session(harness.adapter)
        (await harness.adapter.refresh_tokens.add(new_token(session.id))).unwrap()
        repositories = await harness.reopen()
        error = error_of(await repositories.refresh_tokens.add(new_token(session.id)))
        assert isinstance(error, ConflictError)


def attempt(
    key: str, *, minutes: float, succeeded: bool = False, ip: str | None = None
) -> LoginAttempt:
    return LoginAttempt(
        account_key=key,
        ip_address=ip,
        succeeded=succeeded,
        created_at=NOW + timedelta(minutes=minutes),
    )


class LoginAttemptRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_account_failures_count_after_the_last_success_and_since(
        self, harness: Harness[Repositories]
    ) -> None:
        key, other = "a" * 64, "b" * 64
        attempts = [
            attempt(key, minutes=-30),  # before ``since``
            attempt(key, minutes=-10),  # before the last success
            attempt(key, minutes=-9, succeeded=True),
            attempt(key, minutes=-8),  # before the (later) last success
            attempt(key, minutes=-7, succeeded=True),
            attempt(key, minutes=-5),
            attempt(other, minutes=-4),
            attempt(key, minutes=-3),
            attempt(key, minutes=-1),
        ]
        for item in reversed(attempts):  # insertion order must not matter
            assert await harness.adapter.login_attempts.add(item) == Success(None)

        repositories = await harness.reopen()
        since = NOW - timedelta(minutes=15)
        times = (await repositories.login_attempts.account_failures(key, since=since)).unwrap()
        assert times == [NOW + timedelta(minutes=m) for m in (-5, -3, -1)]
        for moment in times:
            assert_utc(moment)
        later = NOW - timedelta(minutes=4)
        assert (await repositories.login_attempts.account_failures(key, since=later)).unwrap() == [
            NOW + timedelta(minutes=m) for m in (-3, -1)
        ]
        assert (
            await repositories.login_attempts.account_failures("c" * 64, since=since)
        ).unwrap() == []

    async def test_a_success_older_than_since_still_resets_nothing_newer(
        self, harness: Harness[Repositories]
    ) -> None:
        key = "d" * 64
        for item in (
            attempt(key, minutes=-40, succeeded=True),
            attempt(key, minutes=-20),
            attempt(key, minutes=-2),
        ):
            (await harness.adapter.login_attempts.add(item)).unwrap()
        repositories = await harness.reopen()
        since = NOW - timedelta(minutes=15)
        times = (await repositories.login_attempts.account_failures(key, since=since)).unwrap()
        assert times == [NOW - timedelta(minutes=2)]

    async def test_failures_are_counted_inside_the_writing_transaction(
        self, harness: Harness[Repositories]
    ) -> None:
        key = "e" * 64
        (await harness.adapter.login_attempts.add(attempt(key, minutes=0, ip="192.0.2.9"))).unwrap()
        since = NOW - timedelta(minutes=1)
        assert (
            await harness.adapter.login_attempts.account_failures(key, since=since)
        ).unwrap() == [NOW]
        assert (
            await harness.adapter.login_attempts.ip_failures("192.0.2.9", since=since)
        ).unwrap() == [NOW]

    async def test_ip_failures_count_every_account_and_ignore_successes(
        self, harness: Harness[Repositories]
    ) -> None:
        ip, elsewhere = "203.0.113.5", "2001:db8::5"
        for item in (
            attempt("k1" * 32, minutes=-20, ip=ip),  # before ``since``
            attempt("k1" * 32, minutes=-6, ip=ip),
            attempt("k2" * 32, minutes=-5, ip=ip, succeeded=True),
            attempt("k3" * 32, minutes=-4, ip=ip),
            attempt("k3" * 32, minutes=-3, ip=elsewhere),
            attempt("k4" * 32, minutes=-2, ip=None),
            attempt("k2" * 32, minutes=-1, ip=ip),
        ):
            (await harness.adapter.login_attempts.add(item)).unwrap()
        repositories = await harness.reopen()
        since = NOW - timedelta(minutes=15)
        times = (await repositories.login_attempts.ip_failures(ip, since=since)).unwrap()
        assert times == [NOW + timedelta(minutes=m) for m in (-6, -4, -1)]
        assert (await repositories.login_attempts.ip_failures(elsewhere, since=since)).unwrap() == [
            NOW - timedelta(minutes=3)
        ]
        assert (
            await repositories.login_attempts.ip_failures("192.0.2.200", since=since)
        ).unwrap() == []

    async def test_an_attempt_counted_as_success_resets_the_count_and_leaves_the_ip_limit(
        self, harness: Harness[Repositories]
    ) -> None:
        key, ip = "f" * 64, "198.51.100.7"
        earlier = attempt(key, minutes=-3, ip=ip)
        counted = attempt(key, minutes=-1, ip=ip)
        for item in (earlier, counted):
            (await harness.adapter.login_attempts.add(item)).unwrap()
        assert await harness.adapter.login_attempts.count_as_success(counted.id) == Success(None)
        # An unknown id changes nothing (the attempt may have been removed meanwhile).
        assert await harness.adapter.login_attempts.count_as_success(new_id()) == Success(None)
        repositories = await harness.reopen()
        since = NOW - timedelta(minutes=15)
        # The success came after the earlier failure: the account's count starts over.
        assert (await repositories.login_attempts.account_failures(key, since=since)).unwrap() == []
        # It is no failure of the address either; the earlier one still is.
        assert (await repositories.login_attempts.ip_failures(ip, since=since)).unwrap() == [
            NOW - timedelta(minutes=3)
        ]
