"""Webhook endpoints and their deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id

MAX_ENDPOINTS_PER_USER = 10
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 200
# The payload shape; a change that could break a receiver gets a new number.
PAYLOAD_VERSION = 1


class WebhookEventType(StrEnum):
    """What an endpoint can subscribe to (``webhook.test`` is sent on request only)."""

    TRANSACTIONS_UPDATED = "transactions.updated"
    SYNC_FAILED = "sync.failed"
    CONNECTION_NEEDS_ATTENTION = "connection.needs_attention"


TEST_EVENT_TYPE = "webhook.test"


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(slots=True, kw_only=True)
class WebhookEndpoint:
    """``sealed_secret`` is the signing secret sealed by the credentials cipher, never clear."""

    user_id: UUID
    url: str
    events: tuple[WebhookEventType, ...]
    sealed_secret: str = field(repr=False)
    description: str | None = None
    status: EndpointStatus = EndpointStatus.ACTIVE
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @property
    def is_active(self) -> bool:
        return self.status is EndpointStatus.ACTIVE

    def enable(self) -> None:
        """Active again, with a clean slate: past failures no longer count towards disabling."""
        self.status = EndpointStatus.ACTIVE
        self.disabled_reason = None
        self.consecutive_failures = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One event for one endpoint, as the delivery log shows it."""

    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDelivery:
    """A delivery to queue: the payload is sent as it is, signed, until delivered or failed."""

    endpoint_id: UUID
    event_id: UUID
    event_type: str
    payload: dict[str, Any]
    due_at: datetime
