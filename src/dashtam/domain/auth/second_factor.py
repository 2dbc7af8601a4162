"""The second factor: a TOTP authenticator, its recovery codes, and the log-in's pending step.

A log-in of an account with a confirmed authenticator happens in two steps: the password
opens an ``MfaChallenge`` (its ticket is what the client holds), and a code from the
authenticator, or one recovery code, completes it. The secret is stored sealed; recovery codes
and tickets are stored only as digests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id

RECOVERY_CODE_COUNT = 10
# Long enough to read a code off a phone and type it; short enough that a ticket lying in a
# log or a browser's memory is soon worth nothing.
MFA_TICKET_LIFETIME = timedelta(minutes=5)
# A ticket is a password proven: a few wrong codes end it (the account throttle counts them too).
MFA_TICKET_MAX_FAILURES = 5


@dataclass(slots=True, kw_only=True)
class TotpFactor:
    """An authenticator app (RFC 6238). Unconfirmed until its first code is checked.

    ``last_used_step`` is the time step of the last code accepted: a code of that step or an
    earlier one is a replay and is refused.
    """

    id: UUID = field(default_factory=new_id)
    user_id: UUID
    sealed_secret: str = field(repr=False)
    confirmed_at: datetime | None = None
    last_used_step: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    def accepts_step(self, step: int) -> bool:
        return self.last_used_step is None or step > self.last_used_step


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCode:
    """One single-use recovery code: ``selector`` finds it, ``code_hash`` verifies the rest."""

    id: UUID = field(default_factory=new_id)
    user_id: UUID
    selector: str
    code_hash: str = field(repr=False)
    created_at: datetime = field(default_factory=utcnow)
    used_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class MfaChallenge:
    """A log-in whose password was right, waiting for its second factor."""

    id: UUID = field(default_factory=new_id)
    user_id: UUID
    ticket_hash: str = field(repr=False)
    expires_at: datetime
    remember_me: bool = False
    password_change_recommended: bool = False
    failures: int = 0
    ip_address: str | None = None
    user_agent: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    completed_at: datetime | None = None

    def is_open(self, now: datetime) -> bool:
        return (
            self.completed_at is None
            and self.expires_at > now
            and self.failures < MFA_TICKET_MAX_FAILURES
        )
