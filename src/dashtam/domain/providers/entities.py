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


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
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
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @property
    def is_active(self) -> bool:
        return self.status is ConnectionStatus.ACTIVE
