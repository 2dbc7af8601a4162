"""Error taxonomy shared by every layer; each error carries a stable machine-readable code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Error:
    """Base of every error carried in a ``Failure``.

    ``code`` is stable (clients and the API rely on it); ``message`` is safe to show a user;
    ``details`` holds structured, non-sensitive context (e.g. which field failed).
    """

    message: str
    code: str = "error"
    details: Mapping[str, Any] = field(default_factory=dict)

    default_code: ClassVar[str] = "error"

    def __post_init__(self) -> None:
        if self.code == "error" and self.default_code != "error":
            object.__setattr__(self, "code", self.default_code)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True, slots=True)
class DomainError(Error):
    """A business rule was violated."""

    default_code: ClassVar[str] = "domain_error"


@dataclass(frozen=True, slots=True)
class ValidationError(DomainError):
    """Input does not satisfy a rule (format, length, range)."""

    default_code: ClassVar[str] = "validation_error"


@dataclass(frozen=True, slots=True)
class NotFoundError(DomainError):
    """The requested resource does not exist (or is not visible to the caller)."""

    default_code: ClassVar[str] = "not_found"


@dataclass(frozen=True, slots=True)
class ConflictError(DomainError):
    """The change conflicts with the current state (duplicate, stale version)."""

    default_code: ClassVar[str] = "conflict"


@dataclass(frozen=True, slots=True)
class AuthenticationError(DomainError):
    """The caller could not be authenticated."""

    default_code: ClassVar[str] = "authentication_failed"


@dataclass(frozen=True, slots=True)
class AuthorizationError(DomainError):
    """The caller is authenticated but not allowed to do this."""

    default_code: ClassVar[str] = "forbidden"


@dataclass(frozen=True, slots=True)
class InsufficientScopeError(AuthorizationError):
    """The credential does not allow this (RFC 6750 ``insufficient_scope``); ``scope`` names
    the one that would, or is None where no scope would (a personal token on an identity route)."""

    scope: str | None = None
    default_code: ClassVar[str] = "insufficient_scope"


@dataclass(frozen=True, slots=True)
class RateLimitedError(DomainError):
    """Too many attempts; ``retry_after_seconds`` says when to try again."""

    retry_after_seconds: int = 60
    default_code: ClassVar[str] = "rate_limited"


@dataclass(frozen=True, slots=True)
class UpstreamError(DomainError):
    """A source Dashtam reads for the user failed (its server, not ours); the message is a
    fixed sentence safe to show, and says whether trying later may help."""

    default_code: ClassVar[str] = "upstream_failed"


@dataclass(frozen=True, slots=True)
class InfrastructureError(Error):
    """Something outside the domain failed (database, broker, filesystem)."""

    default_code: ClassVar[str] = "infrastructure_error"
    retryable: bool = False
