"""Domain event base types; each feature's events live beside it (see ``catalog``)."""

from dashtam.domain.events.base import DomainEvent, EventEnvelope

__all__ = ["DomainEvent", "EventEnvelope"]
