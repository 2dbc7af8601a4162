"""Providers (the catalog) and a user's connections to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id


class ProviderSlug(StrEnum):
    OFX_FILE = "ofx-file"
    CSV_FILE = "csv-file"
    MANUAL = "manual"
    SIMPLEFIN = "simplefin"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    # Still connected, but the source said something the user must act on (reauthenticate).
    NEEDS_ATTENTION = "needs_attention"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    slug: ProviderSlug
    name: str
    accepts_files: bool


@dataclass(slots=True, kw_only=True)
class ProviderConnection:
    id: UUID = field(default_factory=new_id)
    user_id: UUID
    provider: ProviderSlug
    label: str
    status: ConnectionStatus = ConnectionStatus.ACTIVE
    last_import_at: datetime | None = None
    # Live sources only: what the source last asked the user to do, and the sync schedule.
    attention_message: str | None = None
    last_sync_at: datetime | None = None
    last_sync_attempt_at: datetime | None = None
    next_sync_at: datetime | None = None
    sync_failures: int = 0
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @property
    def is_active(self) -> bool:
        """Connected (a connection that needs attention still is: the user can fix it)."""
        return self.status is not ConnectionStatus.DISCONNECTED

    @property
    def is_live(self) -> bool:
        """Synced by Dashtam itself rather than fed files."""
        return self.provider is ProviderSlug.SIMPLEFIN
