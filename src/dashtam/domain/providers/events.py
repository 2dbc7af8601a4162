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


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncCompleted(DomainEvent):
    """A live connection was read and written, in one transaction."""

    user_id: UUID
    connection_id: UUID
    accounts: int
    transactions_new: int
    transactions_updated: int
    transactions_removed: int

    event_type: ClassVar[str] = "SyncCompleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncFailed(DomainEvent):
    """A sync wrote nothing; ``code`` is stable, ``message`` safe to show (never a secret)."""

    user_id: UUID
    connection_id: UUID
    code: str
    message: str
    # The scheduler tries again (transient failure) unless the user must act first.
    will_retry: bool

    event_type: ClassVar[str] = "SyncFailed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionNeedsAttention(DomainEvent):
    """The source asked the user to act (reauthenticate, fix an account at the bridge)."""

    user_id: UUID
    connection_id: UUID
    message: str

    event_type: ClassVar[str] = "ConnectionNeedsAttention"
