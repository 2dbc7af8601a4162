"""Commands and results of personal access tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.personal_tokens.entities import PersonalAccessToken

MAX_TOKEN_PAGE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePersonalToken:
    """``scopes`` and ``expires_in_days`` as the caller sent them: the handler checks them."""

    user_id: UUID
    name: str
    scopes: tuple[str, ...]
    expires_in_days: int | None
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokePersonalToken:
    user_id: UUID
    token_id: UUID
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class ListPersonalTokens:
    user_id: UUID
    after: UUID | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedPersonalToken:
    """A new token and its text in clear: shown once, in the answer to its creation."""

    token: PersonalAccessToken
    text: str = field(repr=False)
