"""Events of authentication and sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from dashtam.domain.events.base import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class UserLoggedIn(DomainEvent):
    user_id: UUID
    session_id: UUID

    event_type: ClassVar[str] = "UserLoggedIn"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserLoginFailed(DomainEvent):
    """``user_id`` is None when the email matched no account (never say so to the caller)."""

    user_id: UUID | None
    reason: str

    event_type: ClassVar[str] = "UserLoginFailed"


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRevoked(DomainEvent):
    user_id: UUID
    session_id: UUID
    reason: str

    event_type: ClassVar[str] = "SessionRevoked"


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshTokenReuseDetected(DomainEvent):
    user_id: UUID
    session_id: UUID

    event_type: ClassVar[str] = "RefreshTokenReuseDetected"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorEnabled(DomainEvent):
    user_id: UUID
    method: str  # "totp"

    event_type: ClassVar[str] = "SecondFactorEnabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondFactorDisabled(DomainEvent):
    """``by_admin``: an administrator reset it (a lost device), not the user."""

    user_id: UUID
    by_admin: bool

    event_type: ClassVar[str] = "SecondFactorDisabled"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCodeUsed(DomainEvent):
    user_id: UUID
    remaining: int

    event_type: ClassVar[str] = "RecoveryCodeUsed"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCodesRegenerated(DomainEvent):
    user_id: UUID

    event_type: ClassVar[str] = "RecoveryCodesRegenerated"
