"""Log-in throttling: per account and per ip, counted in the store, over a moving window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashtam.application.auth.login import LoginHandler
from dashtam.core.errors import RateLimitedError
from dashtam.core.result import Success
from dashtam.domain.audit import AuditAction, AuditOutcome
from dashtam.domain.auth.entities import ThrottlePolicy
from dashtam.domain.auth.events import UserLoginFailed
from dashtam.domain.users.entities import User
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.unit.application.conftest import user_with_password
from tests.unit.application.support import EMAIL, error_of, log_in, login_handler

WRONG = "wrong password entirely"


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def handler(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock)  # the default policy


async def fail(handler: LoginHandler, times: int, clock: FakeClock, *, every: timedelta) -> None:
    for _ in range(times):
        assert error_of(await log_in(handler, EMAIL, WRONG)).code == "invalid_credentials"
        clock.advance(every)


async def test_five_failures_throttle_even_the_right_password(
    handler: LoginHandler,
    store: FakeStore,
    person: User,
    clock: FakeClock,
    hasher: FakePasswordHasher,
) -> None:
    start = clock()
    await fail(handler, 4, clock, every=timedelta(minutes=1))
    await fail(handler, 1, clock, every=timedelta(0))  # failures at start + 0, 1, 2, 3, 4 min
    verified = hasher.verify_calls

    error = error_of(await log_in(handler))
    assert isinstance(error, RateLimitedError)
    assert error.code == "rate_limited"
    # The oldest failure leaves the 15-minute window at start + 15 min: 11 minutes from now.
    assert error.retry_after_seconds == 11 * 60 + 1
    assert clock() == start + timedelta(minutes=4)
    assert hasher.verify_calls == verified  # no password check while throttled
    assert store.sessions == {}
    refused = store.audit_log[-1]
    assert (refused.action, refused.outcome, refused.reason) == (
        AuditAction.USER_LOGIN_FAILED,
        AuditOutcome.FAILED,
        "rate_limited",
    )
    # A throttled attempt is not itself counted (else the wait would never end).
    assert len(store.login_attempts) == 5
    assert len(store.events_of(UserLoginFailed)) == 5


async def test_the_window_moves_on_with_the_clock(
    handler: LoginHandler, person: User, clock: FakeClock
) -> None:
    start = clock()
    await fail(handler, 5, clock, every=timedelta(minutes=1))  # at start + 0..4 min
    clock.now = start + timedelta(minutes=14, seconds=59)
    assert isinstance(error_of(await log_in(handler)), RateLimitedError)
    clock.now = start + timedelta(minutes=15)  # the first failure is out of the window
    assert isinstance(await log_in(handler), Success)


async def test_retry_after_shrinks_as_time_passes(handler: LoginHandler, clock: FakeClock) -> None:
    await fail(handler, 5, clock, every=timedelta(0))
    first = error_of(await log_in(handler))
    clock.advance(minutes=10)
    later = error_of(await log_in(handler))
    assert isinstance(first, RateLimitedError)
    assert isinstance(later, RateLimitedError)
    assert (first.retry_after_seconds, later.retry_after_seconds) == (15 * 60 + 1, 5 * 60 + 1)


async def test_a_success_resets_the_account_count(
    handler: LoginHandler, person: User, clock: FakeClock
) -> None:
    await fail(handler, 4, clock, every=timedelta(seconds=10))
    assert isinstance(await log_in(handler), Success)
    clock.advance(seconds=10)
    await fail(handler, 4, clock, every=timedelta(seconds=10))
    assert isinstance(await log_in(handler), Success)  # only 4 since the last success
    clock.advance(seconds=10)
    await fail(handler, 5, clock, every=timedelta(seconds=10))
    assert isinstance(error_of(await log_in(handler)), RateLimitedError)


async def test_unknown_emails_are_throttled_like_known_ones(
    handler: LoginHandler, clock: FakeClock
) -> None:
    # Otherwise the 429 would tell an attacker which addresses have accounts.
    for _ in range(5):
        assert error_of(await log_in(handler, "nobody@example.com")).code == "invalid_credentials"
    assert isinstance(error_of(await log_in(handler, "nobody@example.com")), RateLimitedError)


def test_the_default_policy_is_five_per_account_in_fifteen_minutes() -> None:
    assert ThrottlePolicy() == ThrottlePolicy(
        max_account_failures=5, max_ip_failures=50, window=timedelta(minutes=15)
    )


async def test_throttling_one_account_leaves_others_alone(
    handler: LoginHandler, store: FakeStore, person: User, clock: FakeClock
) -> None:
    store.seed(user_with_password("other@example.com"))
    await fail(handler, 5, clock, every=timedelta(0))
    assert isinstance(await log_in(handler, "other@example.com"), Success)


async def test_the_per_ip_limit_spans_accounts(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
    person: User,
) -> None:
    policy = ThrottlePolicy(max_ip_failures=8)
    handler = login_handler(store, hasher, tokens, logger, clock, policy)
    attacker, bystander = "203.0.113.66", "192.0.2.10"
    for n in range(8):  # eight different accounts, so no account limit is reached
        result = await log_in(handler, f"victim{n}@example.com", WRONG, ip=attacker)
        assert error_of(result).code == "invalid_credentials"
        clock.advance(seconds=30)
    error = error_of(await log_in(handler, ip=attacker))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_seconds == 15 * 60 - 4 * 60 + 1  # oldest at -4 min
    assert isinstance(await log_in(handler, ip=bystander), Success)
    assert isinstance(await log_in(handler, ip=None), Success)


async def test_throttled_state_lives_in_the_store_not_the_handler(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
    person: User,
) -> None:
    first = login_handler(store, hasher, tokens, logger, clock)
    await fail(first, 5, clock, every=timedelta(0))
    second = login_handler(store, hasher, tokens, logger, clock)  # "another process"
    assert isinstance(error_of(await log_in(second)), RateLimitedError)
