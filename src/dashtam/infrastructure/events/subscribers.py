"""Built-in subscribers."""

from __future__ import annotations

from dashtam.domain.events import EventEnvelope
from dashtam.domain.protocols.logger import LoggerProtocol


class LoggingSubscriber:
    """Writes every committed event to the structured log."""

    name = "logging"

    def __init__(self, *, logger: LoggerProtocol) -> None:
        self._logger = logger

    def accepts(self, event_type: str) -> bool:
        return True

    async def handle(self, event: EventEnvelope) -> None:
        self._logger.info(
            "domain_event",
            event_type=event.event_type,
            event_id=str(event.event_id),
            occurred_at=event.occurred_at.isoformat(),
        )
