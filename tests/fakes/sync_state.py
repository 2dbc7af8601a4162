"""In-memory ``SyncStateRepository``: what ``provider_connections`` holds beside the entity.

Writes are staged like every fake repository's and published by the fake commit; the sync
fields the entity carries (status, schedule) are written through the finance tables, so they
commit or roll back with the connection row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result, Success
from dashtam.domain.providers.entities import ConnectionStatus, ProviderSlug
from dashtam.domain.providers.sync_state import DueSync, SealedCredential, SyncOutcome
from tests.fakes.finance_tables import FinanceTables


@dataclass(frozen=True)
class SyncRow:
    credentials: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    requests_day: date | None = None
    requests_count: int = 0


class FakeSyncStateRepository:
    def __init__(self, *, table: dict[UUID, SyncRow], finance: FinanceTables) -> None:
        self.table = table
        self.staged: dict[UUID, SyncRow] = {}
        self.finance = finance

    def _row(self, connection_id: UUID) -> SyncRow:
        return self.staged.get(connection_id) or self.table.get(connection_id) or SyncRow()

    def _exists(self, connection_id: UUID) -> bool:
        return self.finance.connections.get(connection_id) is not None

    async def store_credentials(
        self, connection_id: UUID, sealed: str | None
    ) -> Result[None, Error]:
        if self._exists(connection_id):
            self.staged[connection_id] = replace(self._row(connection_id), credentials=sealed)
        return Success(None)

    async def sealed_credentials(self, connection_id: UUID) -> Result[str | None, Error]:
        return Success(
            self._row(connection_id).credentials if self._exists(connection_id) else None
        )

    async def sealed_page(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[SealedCredential], Error]:
        keys = sorted(
            k for k in self.table.keys() | self.staged.keys() if after is None or k > after
        )
        found = [
            SealedCredential(key, sealed)
            for key in keys
            if (sealed := self._row(key).credentials) is not None
        ]
        return Success(found[:limit])

    async def spend_requests(
        self, connection_id: UUID, *, day: date, count: int, limit: int
    ) -> Result[bool, Error]:
        row = self._row(connection_id)
        spent = row.requests_count if row.requests_day == day else 0
        if spent + count > limit:
            return Success(False)
        self.staged[connection_id] = replace(row, requests_day=day, requests_count=spent + count)
        return Success(True)

    async def save_outcome(self, connection_id: UUID, outcome: SyncOutcome) -> Result[None, Error]:
        current = self.finance.connections.get(connection_id)
        if current is not None:
            self.finance.connections.put(
                connection_id,
                replace(
                    current,
                    status=ConnectionStatus(outcome.status),
                    attention_message=outcome.attention_message,
                    last_sync_at=outcome.last_sync_at,
                    last_sync_attempt_at=outcome.last_sync_attempt_at,
                    next_sync_at=outcome.next_sync_at,
                    sync_failures=outcome.sync_failures,
                    version=current.version + 1,
                ),
            )
        return Success(None)

    def _live(self) -> list[DueSync]:
        return [
            DueSync(c.id, c.user_id)
            for c in sorted(self.finance.connections.rows(), key=lambda c: c.id)
            if c.provider is ProviderSlug.SIMPLEFIN
            and c.is_active
            and self._row(c.id).credentials is not None
        ]

    async def live_connections(self) -> Result[Sequence[DueSync], Error]:
        return Success(self._live())

    def _free(self, connection_id: UUID, now: datetime) -> bool:
        until = self._row(connection_id).claimed_until
        return until is None or until < now

    async def claim_due(
        self, *, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> Result[Sequence[DueSync], Error]:
        due = [
            d
            for d in self._live()
            if (c := self.finance.connections.get(d.connection_id)) is not None
            and c.next_sync_at is not None
            and c.next_sync_at <= now
            and self._free(d.connection_id, now)
        ][:limit]
        for d in due:
            self._lease(d.connection_id, worker, lease_until)
        return Success(due)

    def _lease(self, connection_id: UUID, worker: str | None, until: datetime | None) -> None:
        self.staged[connection_id] = replace(
            self._row(connection_id), claimed_by=worker, claimed_until=until
        )

    async def claim(
        self, connection_id: UUID, *, worker: str, now: datetime, lease_until: datetime
    ) -> Result[bool, Error]:
        if not self._exists(connection_id) or not self._free(connection_id, now):
            return Success(False)
        self._lease(connection_id, worker, lease_until)
        return Success(True)

    async def release(self, connection_id: UUID, *, worker: str) -> Result[None, Error]:
        if self._row(connection_id).claimed_by == worker:
            self._lease(connection_id, None, None)
        return Success(None)

    async def renew(
        self, connection_id: UUID, *, worker: str, lease_until: datetime
    ) -> Result[bool, Error]:
        if self._row(connection_id).claimed_by != worker:
            return Success(False)
        self._lease(connection_id, worker, lease_until)
        return Success(True)

    # -- the fake transaction ------------------------------------------------------------

    def check_staged(self) -> Error | None:
        return None

    def apply_staged(self) -> None:
        self.table.update(self.staged)
        self.staged.clear()

    def discard_staged(self) -> None:
        self.staged.clear()
