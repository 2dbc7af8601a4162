"""A ``TokenUsage`` that keeps every noted use, for the handler tests (no background writer)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID


class RecordingTokenUsage:
    def __init__(self) -> None:
        self.uses: list[tuple[UUID, datetime]] = []

    def note(self, token_id: UUID, at: datetime) -> None:
        self.uses.append((token_id, at))
