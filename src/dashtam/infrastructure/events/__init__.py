"""Event delivery: outbox relay and subscribers."""

from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.events.subscribers import LoggingSubscriber

__all__ = ["LoggingSubscriber", "OutboxRelay"]
