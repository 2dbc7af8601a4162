"""Commands and results of managing one's second factor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from dashtam.domain.audit import AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolTotp:
    """Start enrolling an authenticator. The password is asked again (ASVS 5.0 7.5.1) unless
    the session's log-in is recent (``logged_in_at`` within the re-authentication window)."""

    user_id: UUID
    password: str | None = field(default=None, repr=False)
    logged_in_at: datetime
    expected_version: int
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpEnrolment:
    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    qr_code_svg: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmTotp:
    user_id: UUID
    session_id: UUID
    code: str = field(repr=False)
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class FactorChanged:
    """After a factor change: new recovery codes (shown once), and the other sessions still
    open, which the client should offer to end (ASVS 5.0 7.4.3)."""

    recovery_codes: Sequence[str] = field(default=(), repr=False)
    other_sessions: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DisableTotp:
    user_id: UUID
    session_id: UUID
    password: str = field(repr=False)
    code: str | None = field(default=None, repr=False)
    recovery_code: str | None = field(default=None, repr=False)
    expected_version: int
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class RegenerateRecoveryCodes:
    user_id: UUID
    session_id: UUID
    code: str = field(repr=False)
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaStatus:
    totp_enabled: bool
    totp_pending: bool
    enabled_at: datetime | None
    recovery_codes_left: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetMfa:
    """An administrator removes a user's second factor (a lost device)."""

    user_id: UUID
    context: AuditContext
