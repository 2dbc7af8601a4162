"""Domain events of every feature, importable from one place."""

from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.events.base import DomainEvent, EventEnvelope
from dashtam.domain.events.catalog import event_types
from dashtam.domain.providers.events import ProviderConnected
from dashtam.domain.users.events import UserDeleted, UserPasswordChanged, UserRegistered

__all__ = [
    "AccountDeleted",
    "DomainEvent",
    "EventEnvelope",
    "ProviderConnected",
    "UserDeleted",
    "UserPasswordChanged",
    "UserRegistered",
    "event_types",
]
