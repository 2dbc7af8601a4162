"""Port: subscribers that react to committed events (delivered at least once)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from dashtam.domain.events import EventEnvelope


class EventSubscriber(Protocol):
    """Reacts to committed events. ``name`` must be stable: deliveries are recorded per name."""

    @property
    def name(self) -> str: ...

    def accepts(self, event_type: str) -> bool: ...

    async def handle(self, event: EventEnvelope) -> None: ...


@runtime_checkable
class PreparesBatches(Protocol):
    """A subscriber shown a batch's events before it handles them one by one (to pipeline).

    ``prepare`` gets, in delivery order, the events of the batch that the subscriber accepts
    and has not handled yet; ``handle`` is still called for each and still decides.
    """

    async def prepare(self, events: Sequence[EventEnvelope]) -> None: ...
