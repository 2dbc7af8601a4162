"""Port: subscribers that react to committed events (delivered at least once)."""

from __future__ import annotations

from typing import Protocol

from dashtam.domain.events import EventEnvelope


class EventSubscriber(Protocol):
    """Reacts to committed events. ``name`` must be stable: deliveries are recorded per name."""

    @property
    def name(self) -> str: ...

    def accepts(self, event_type: str) -> bool: ...

    async def handle(self, event: EventEnvelope) -> None: ...
