"""Commands and results of authentication."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.auth.entities import AuthSession
from dashtam.domain.users.entities import User


@dataclass(frozen=True, slots=True, kw_only=True)
class LogIn:
    email: str
    password: str = field(repr=False)
    context: AuditContext = field(default_factory=AuditContext)


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshTokens:
    refresh_token: str = field(repr=False)
    context: AuditContext = field(default_factory=AuditContext)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    user_id: UUID
    session_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The authenticated caller: the user and the log-in session the token belongs to."""

    user: User
    session: AuthSession


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeSession:
    principal: Principal
    session_id: UUID
    context: AuditContext
