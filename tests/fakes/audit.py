"""In-memory ``AuditProtocol`` that stores what ``SqlAuditTrail`` would read back."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC
from uuid import UUID

from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditEntry
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes.faults import Faults

USER_AGENT_MAX = 512  # the column's length; the SQL model truncates to it


def as_stored(entry: AuditEntry) -> AuditEntry:
    """The entry as a database row returns it: metadata through JSON, user agent clipped."""
    return replace(
        entry,
        occurred_at=entry.occurred_at.astimezone(UTC),
        metadata=json.loads(json.dumps(dict(entry.metadata))),
        user_agent=(entry.user_agent or "")[:USER_AGENT_MAX] or None,
    )


class FakeAuditTrail:
    """Append-only list of entries; the list may be shared (the fake unit of work does)."""

    def __init__(
        self, *, entries: list[AuditEntry] | None = None, faults: Faults | None = None
    ) -> None:
        self.entries: list[AuditEntry] = entries if entries is not None else []
        self._faults = faults or Faults()

    async def record(self, entry: AuditEntry) -> Result[None, Error]:
        if (fault := self._faults.take("record")) is not None:
            return Failure(fault)
        if any(existing.id == entry.id for existing in self.entries):
            return Failure(self.duplicate())
        try:
            stored = as_stored(entry)
        except (TypeError, ValueError):
            return Failure(DatabaseError("database operation failed"))
        self.entries.append(stored)
        return Success(None)

    @staticmethod
    def duplicate() -> ConflictError:
        """What a second row with the same primary key becomes (``classify``, no override)."""
        return ConflictError("duplicate value", code="duplicate")

    async def list_for_resource(
        self, resource_id: UUID, *, action: AuditAction | None = None
    ) -> Result[Sequence[AuditEntry], Error]:
        if (fault := self._faults.take("list_for_resource")) is not None:
            return Failure(fault)
        rows = [
            entry
            for entry in self.entries
            if entry.resource_id == resource_id and (action is None or entry.action == action)
        ]
        # SqlAuditTrail orders by id: UUIDv7, so oldest first.
        return Success(sorted(rows, key=lambda entry: entry.id))
