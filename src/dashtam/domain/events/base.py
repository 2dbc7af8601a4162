"""Domain event base: something that happened, named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Immutable fact; ``event_id`` is UUIDv7 and doubles as the outbox row id."""

    event_id: UUID = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=utcnow)

    event_type: ClassVar[str] = "DomainEvent"

    def payload(self) -> dict[str, Any]:
        """The event's own fields as JSON-safe values (ids and datetimes as strings)."""
        result: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("event_id", "occurred_at"):
                continue
            result[f.name] = _jsonable(getattr(self, f.name))
        return result


def _jsonable(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class EventEnvelope:
    """A committed event as subscribers receive it from the outbox."""

    event_id: UUID
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]
    trace_id: str | None = None
