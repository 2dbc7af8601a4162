"""Commands and results of authentication."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.auth.entities import AuthSession
from dashtam.domain.personal_tokens.entities import TokenScope
from dashtam.domain.users.entities import User


@dataclass(frozen=True, slots=True, kw_only=True)
class LogIn:
    email: str
    password: str = field(repr=False)
    remember_me: bool = False
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
    # The password no longer meets the policy (e.g. shorter than 15 characters): it still
    # works, and the client is told a change is recommended.
    password_change_recommended: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MfaRequired:
    """The password was right; a second factor completes the log-in (``POST /sessions/mfa``)."""

    mfa_ticket: str = field(repr=False)
    expires_in: int


LoginOutcome = TokenPair | MfaRequired


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteMfaLogIn:
    """The second step of a log-in: the ticket and either a TOTP code or a recovery code."""

    mfa_ticket: str = field(repr=False)
    code: str | None = field(default=None, repr=False)
    recovery_code: str | None = field(default=None, repr=False)
    context: AuditContext = field(default_factory=AuditContext)


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal(ABC):
    """The authenticated caller: a user, through a log-in session or a personal token."""

    user: User

    @abstractmethod
    def grants(self, scope: TokenScope) -> bool:
        """Whether the credential allows what ``scope`` names (the user's rights aside)."""

    @property
    def personal_token_id(self) -> UUID | None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionPrincipal(Principal):
    """Signed in with a log-in session: the token belongs to ``session``."""

    session: AuthSession

    def grants(self, scope: TokenScope) -> bool:
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPrincipal(Principal):
    """Signed in with a personal access token: its scopes only, and never a session."""

    token_id: UUID
    scopes: frozenset[TokenScope]

    def grants(self, scope: TokenScope) -> bool:
        return scope in self.scopes

    @property
    def personal_token_id(self) -> UUID | None:
        return self.token_id


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeSession:
    principal: SessionPrincipal
    session_id: UUID
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeOtherSessions:
    principal: SessionPrincipal
    context: AuditContext
