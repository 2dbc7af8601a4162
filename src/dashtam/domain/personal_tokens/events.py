"""Events of personal access tokens (never the token itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from dashtam.domain.events.base import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalTokenCreated(DomainEvent):
    user_id: UUID
    token_id: UUID
    scopes: tuple[str, ...]
    expires_at: datetime

    event_type: ClassVar[str] = "PersonalTokenCreated"


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalTokenRevoked(DomainEvent):
    user_id: UUID
    token_id: UUID
    reason: str

    event_type: ClassVar[str] = "PersonalTokenRevoked"
