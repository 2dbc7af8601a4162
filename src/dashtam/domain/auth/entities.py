"""Authentication aggregates: log-in sessions, their refresh tokens, log-in attempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id


@dataclass(slots=True, kw_only=True)
class AuthSession:
    """One log-in on one device; every refresh token of the session belongs to its family."""

    id: UUID = field(default_factory=new_id)
    user_id: UUID
    expires_at: datetime
    ip_address: str | None = None
    user_agent: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    last_used_at: datetime = field(default_factory=utcnow)
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    remember_me: bool = False
    # Opened (or later confirmed) with a second factor: what "MFA required" asks of a session.
    second_factor: bool = False
    version: int = 1

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def revoke(self, reason: str, now: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = now
            self.revoked_reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshToken:
    """A refresh token, stored only as its hash; usable once (``rotated_at`` marks the use)."""

    id: UUID = field(default_factory=new_id)
    session_id: UUID
    token_hash: str
    expires_at: datetime
    created_at: datetime = field(default_factory=utcnow)
    rotated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginAttempt:
    """One attempt to log in; ``account_key`` is a hash of the email, known account or not."""

    id: UUID = field(default_factory=new_id)
    account_key: str
    ip_address: str | None
    succeeded: bool
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How many failed log-ins are allowed per account and per ip within the window."""

    max_account_failures: int = 5
    max_ip_failures: int = 50
    window: timedelta = timedelta(minutes=15)

    def retry_after(
        self, failure_times: list[datetime], *, limit: int, now: datetime
    ) -> int | None:
        """Seconds until another attempt is allowed, or None when one is allowed now.

        ``failure_times`` are the counted failures inside the window, oldest first.
        """
        recent = sorted(t for t in failure_times if t > now - self.window)
        if len(recent) < limit:
            return None
        frees_at = recent[len(recent) - limit] + self.window
        return max(1, int((frees_at - now).total_seconds()) + 1)


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    """How long a session lives (NIST SP 800-63B-4 section 2.2.3, OWASP ASVS 5.0 V7.3).

    A session ends after ``idle_timeout`` without a refresh, and in any case ``lifetime``
    after its log-in. "Remember me" asks for a long-lived session: its own, longer, bounds.
    """

    idle_timeout: timedelta = timedelta(hours=1)
    lifetime: timedelta = timedelta(hours=24)
    remember_me_idle_timeout: timedelta = timedelta(days=7)
    remember_me_lifetime: timedelta = timedelta(days=30)

    def ends_at(self, session: AuthSession, *, now: datetime) -> datetime:
        """When ``session`` ends if it is used at ``now`` (log-in or refresh)."""
        if session.remember_me:
            idle, lifetime = self.remember_me_idle_timeout, self.remember_me_lifetime
        else:
            idle, lifetime = self.idle_timeout, self.lifetime
        return min(now + idle, session.created_at + lifetime)
