"""SessionPolicy: idle timeout and absolute lifetime; the second factor's small rules."""

from __future__ import annotations

from datetime import timedelta

from dashtam.core.ids import new_id
from dashtam.domain.auth.entities import AuthSession, SessionPolicy
from dashtam.domain.auth.second_factor import MfaChallenge, TotpFactor
from tests.fakes.clock import START

POLICY = SessionPolicy()


def session(*, remember_me: bool = False) -> AuthSession:
    return AuthSession(
        user_id=new_id(), expires_at=START, created_at=START, remember_me=remember_me
    )


def test_the_defaults_are_an_hour_idle_within_a_day_and_a_week_within_a_month() -> None:
    assert (POLICY.idle_timeout, POLICY.lifetime) == (timedelta(hours=1), timedelta(hours=24))
    assert (POLICY.remember_me_idle_timeout, POLICY.remember_me_lifetime) == (
        timedelta(days=7),
        timedelta(days=30),
    )


def test_each_use_moves_the_end_by_the_idle_timeout_up_to_the_lifetime() -> None:
    plain = session()
    assert POLICY.ends_at(plain, now=START) == START + timedelta(hours=1)
    later = START + timedelta(hours=20)
    assert POLICY.ends_at(plain, now=later) == later + timedelta(hours=1)
    almost = START + timedelta(hours=23, minutes=30)
    assert POLICY.ends_at(plain, now=almost) == START + timedelta(hours=24)


def test_remember_me_has_its_own_longer_bounds() -> None:
    remembered = session(remember_me=True)
    assert POLICY.ends_at(remembered, now=START) == START + timedelta(days=7)
    late = START + timedelta(days=28)
    assert POLICY.ends_at(remembered, now=late) == START + timedelta(days=30)


def test_a_factor_accepts_only_later_steps() -> None:
    factor = TotpFactor(user_id=new_id(), sealed_secret="s")
    assert factor.accepts_step(0)
    factor.last_used_step = 10
    assert not factor.accepts_step(10)
    assert not factor.accepts_step(9)
    assert factor.accepts_step(11)
    assert not factor.is_confirmed


def test_a_ticket_is_open_until_used_expired_or_failed_five_times() -> None:
    challenge = MfaChallenge(
        user_id=new_id(), ticket_hash="h", expires_at=START + timedelta(minutes=5)
    )
    assert challenge.is_open(START)
    assert not challenge.is_open(START + timedelta(minutes=5))
    challenge.failures = 4
    assert challenge.is_open(START)
    challenge.failures = 5
    assert not challenge.is_open(START)
    challenge.failures, challenge.completed_at = 0, START
    assert not challenge.is_open(START)
    hidden = MfaChallenge(user_id=new_id(), ticket_hash="h" * 64, expires_at=START)
    assert "h" * 64 not in repr(hidden)
