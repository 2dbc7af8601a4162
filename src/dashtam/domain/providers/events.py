"""Events raised when users link financial providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from dashtam.domain.events.base import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderConnected(DomainEvent):
    user_id: UUID
    connection_id: UUID
    provider: str

    event_type: ClassVar[str] = "ProviderConnected"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderDisconnected(DomainEvent):
    user_id: UUID
    connection_id: UUID
    purged: bool

    event_type: ClassVar[str] = "ProviderDisconnected"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementImported(DomainEvent):
    user_id: UUID
    connection_id: UUID
    transactions_new: int
    transactions_updated: int

    event_type: ClassVar[str] = "StatementImported"
