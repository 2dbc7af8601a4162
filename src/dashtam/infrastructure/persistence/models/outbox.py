"""Transactional outbox: events written with the change, delivered after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.core.clock import utcnow
from dashtam.domain.events import DomainEvent, EventEnvelope
from dashtam.infrastructure.persistence.base import BaseModel
from dashtam.infrastructure.persistence.types import JSONType


class OutboxEventModel(BaseModel):
    """One committed domain event; ``id`` is the event id. ``delivered_at`` is set once
    every subscriber has handled it."""

    __tablename__ = "event_outbox"
    __table_args__ = (
        # The relay only ever scans undelivered rows; keep that scan small forever.
        Index(
            "ix_event_outbox_pending",
            "created_at",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )

    event_type: Mapped[str] = mapped_column(String(128), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    trace_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # After a failed attempt, the event is not retried before this time (exponential backoff).
    next_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)

    @classmethod
    def from_event(cls, event: DomainEvent, *, trace_id: str | None) -> OutboxEventModel:
        return cls(**cls.values_of(event, trace_id=trace_id))

    @staticmethod
    def values_of(event: DomainEvent, *, trace_id: str | None) -> dict[str, Any]:
        """The row of ``event`` by column name, for a Core insert."""
        return {
            "id": event.event_id,
            "created_at": utcnow(),
            "event_type": event.event_type,
            "occurred_at": event.occurred_at,
            "payload": event.payload(),
            "trace_id": trace_id,
            "attempts": 0,
        }

    def to_envelope(self) -> EventEnvelope:
        return EventEnvelope(
            event_id=self.id,
            event_type=self.event_type,
            occurred_at=self.occurred_at,
            payload=dict(self.payload),
            trace_id=self.trace_id,
        )


class EventDeliveryModel(BaseModel):
    """A subscriber handled an event that is still to be retried for another: the retries skip
    it, making delivery idempotent per subscriber (a delivered event has no rows here)."""

    __tablename__ = "event_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "subscriber"),)

    event_id: Mapped[UUID] = mapped_column(
        ForeignKey("event_outbox.id", ondelete="CASCADE"), nullable=False
    )
    subscriber: Mapped[str] = mapped_column(String(128), nullable=False)
