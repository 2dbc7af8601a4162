"""Port: what a live connection keeps besides its public fields: its sealed credential, its
daily request budget, its sync schedule and the workers' claims on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOutcome:
    """The connection's sync fields after an attempt (the public ones, on the entity)."""

    status: str
    attention_message: str | None
    last_sync_at: datetime | None
    last_sync_attempt_at: datetime
    next_sync_at: datetime | None
    sync_failures: int


@dataclass(frozen=True, slots=True)
class SealedCredential:
    connection_id: UUID
    sealed: str


@dataclass(frozen=True, slots=True)
class DueSync:
    connection_id: UUID
    user_id: UUID


class SyncStateRepository(Protocol):
    async def store_credentials(
        self, connection_id: UUID, sealed: str | None
    ) -> Result[None, Error]:
        """Keep (or, with None, delete) the connection's sealed credential."""
        ...

    async def sealed_credentials(self, connection_id: UUID) -> Result[str | None, Error]: ...

    async def sealed_page(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[SealedCredential], Error]:
        """Every stored credential, in id order, a page at a time (key rotation)."""
        ...

    async def spend_requests(
        self, connection_id: UUID, *, day: date, count: int, limit: int
    ) -> Result[bool, Error]:
        """Count ``count`` requests on ``day`` if the day's total stays within ``limit``
        (atomically: two syncs never both take the last request); False when it would not."""
        ...

    async def save_outcome(self, connection_id: UUID, outcome: SyncOutcome) -> Result[None, Error]:
        """Write the sync fields (unversioned: a sync never loses to a label edit)."""
        ...

    async def claim_due(
        self, *, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> Result[Sequence[DueSync], Error]:
        """Active live connections due by ``now`` and not claimed by a live lease, now claimed
        by ``worker`` until ``lease_until``; a connection is claimed by one worker at a time."""
        ...

    async def live_connections(self) -> Result[Sequence[DueSync], Error]:
        """Every connected live connection, whatever its schedule (``dashtam sync --all``)."""
        ...

    async def claim(
        self, connection_id: UUID, *, worker: str, now: datetime, lease_until: datetime
    ) -> Result[bool, Error]:
        """Claim one connection (a sync asked for by its user); False when another holds it."""
        ...

    async def release(self, connection_id: UUID, *, worker: str) -> Result[None, Error]:
        """End ``worker``'s claim (a claim another worker took over is left alone)."""
        ...

    async def renew(
        self, connection_id: UUID, *, worker: str, lease_until: datetime
    ) -> Result[bool, Error]:
        """Extend ``worker``'s claim; False when it no longer holds it."""
        ...
