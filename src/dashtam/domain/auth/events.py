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
