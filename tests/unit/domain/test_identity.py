"""ThrottlePolicy arithmetic, AuthSession activity, and closing a user account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashtam.domain.auth.entities import AuthSession, ThrottlePolicy
from dashtam.domain.users.entities import CLOSED_PASSWORD_HASH, User
from dashtam.domain.users.value_objects import Email, Role

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(max_account_failures=5, window=timedelta(minutes=15))


def ago(**parts: float) -> datetime:
    return NOW - timedelta(**parts)


def test_fewer_failures_than_the_limit_allow_an_attempt() -> None:
    assert POLICY.retry_after([ago(minutes=1)] * 4, limit=5, now=NOW) is None
    assert POLICY.retry_after([], limit=5, now=NOW) is None


def test_at_the_limit_the_wait_lasts_until_the_oldest_leaves_the_window() -> None:
    failures = [ago(minutes=m) for m in (10, 8, 6, 4, 2)]
    # Frees at NOW + 5 min; rounded up by one second so a retry never arrives early.
    assert POLICY.retry_after(failures, limit=5, now=NOW) == 5 * 60 + 1


def test_with_more_failures_than_the_limit_the_limit_th_newest_counts() -> None:
    failures = [ago(minutes=m) for m in (14, 12, 10, 8, 6, 4, 2)]
    # The 5 newest are 10..2 minutes old: the wait ends when the 10-minute one expires.
    assert POLICY.retry_after(failures, limit=5, now=NOW) == 5 * 60 + 1


def test_order_of_the_input_does_not_matter() -> None:
    failures = [ago(minutes=m) for m in (2, 10, 6, 4, 8)]
    assert POLICY.retry_after(failures, limit=5, now=NOW) == 5 * 60 + 1


def test_failures_outside_the_window_do_not_count() -> None:
    failures = [ago(minutes=15), ago(minutes=20), *[ago(minutes=1)] * 4]
    assert POLICY.retry_after(failures, limit=5, now=NOW) is None


def test_the_wait_is_at_least_one_second() -> None:
    failures = [ago(minutes=14, seconds=59, microseconds=999_999)] * 5
    assert POLICY.retry_after(failures, limit=5, now=NOW) == 1


def test_a_fresh_burst_waits_the_whole_window() -> None:
    assert POLICY.retry_after([NOW] * 5, limit=5, now=NOW) == 15 * 60 + 1


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_the_limit_is_a_parameter(limit: int) -> None:
    assert POLICY.retry_after([NOW] * (limit - 1), limit=limit, now=NOW) is None
    assert POLICY.retry_after([NOW] * limit, limit=limit, now=NOW) == 15 * 60 + 1


def test_a_session_is_active_until_expiry_or_revocation() -> None:
    session = AuthSession(
        user_id=User(email=Email("a@b.example"), password_hash="h").id, expires_at=NOW
    )
    assert session.is_active(ago(seconds=1))
    assert not session.is_active(NOW)
    session.revoke("logout", ago(minutes=5))
    session.revoke("again", ago(minutes=1))  # the first revocation stands
    assert (session.revoked_at, session.revoked_reason) == (ago(minutes=5), "logout")
    assert not session.is_active(ago(hours=1))


def test_closing_a_user_removes_personal_data_and_log_in() -> None:
    user = User(email=Email.parse("jane@example.com").unwrap(), password_hash="h", role=Role.ADMIN)
    assert (user.can_log_in, user.is_closed) == (True, False)
    user.close(NOW)
    assert user.email.value == f"closed-{user.id.hex}@closed.invalid"
    assert "jane" not in repr(user)
    assert user.password_hash == CLOSED_PASSWORD_HASH
    assert not user.password_hash.startswith("$argon2")
    assert (user.is_active, user.role, user.closed_at) == (False, Role.USER, NOW)
    assert (user.can_log_in, user.is_closed, user.is_admin) == (False, True, False)


def test_a_deactivated_user_cannot_log_in_but_is_not_closed() -> None:
    user = User(email=Email.parse("joe@example.com").unwrap(), password_hash="h", is_active=False)
    assert (user.can_log_in, user.is_closed) == (False, False)
