"""Bodies of the webhooks API. The signing secret appears in one body only: on creation (and
on rotation), never in a read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict, JsonValue

from dashtam.application.webhooks.commands import QueuedTest, WithSecret
from dashtam.domain.webhooks.entities import (
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from dashtam.presentation.api.validators import PlainText

_EVENT_NAMES: list[JsonValue] = [t.value for t in WebhookEventType]
_EVENTS: JsonDict = {"items": {"type": "string", "enum": _EVENT_NAMES}}
# Lengths and forms are checked by the handler, which answers with stable codes
# (``url_too_long``, ``unsupported_url_scheme``, ...) and audits the attempt.
_URL = Field(
    examples=["https://example.com/hooks/dashtam"],
    json_schema_extra={"maxLength": MAX_URL_LENGTH},
)


class CreateWebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = _URL
    events: list[str] = Field(
        min_length=1, max_length=10, examples=[["transactions.updated"]], json_schema_extra=_EVENTS
    )
    description: PlainText | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)


class UpdateWebhookRequest(BaseModel):
    """Only the fields sent change; ``enabled: true`` re-enables a disabled endpoint."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_URL_LENGTH})
    events: list[str] | None = Field(
        default=None, min_length=1, max_length=10, json_schema_extra=_EVENTS
    )
    description: PlainText | None = Field(default=None, max_length=MAX_DESCRIPTION_LENGTH)
    enabled: bool | None = None


class WebhookResponse(BaseModel):
    id: UUID
    url: str
    events: list[str]
    description: str | None
    status: str = Field(examples=["active", "disabled"])
    disabled_reason: str | None
    consecutive_failures: int = Field(description="Deliveries failed in a row")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookResponse:
        return cls(**_fields(endpoint))


class CreatedWebhookResponse(WebhookResponse):
    secret: str = Field(
        description="The signing secret. Shown this once: store it now.",
        examples=["whsec_0kM3..."],
    )

    @classmethod
    def created(cls, made: WithSecret) -> CreatedWebhookResponse:
        return cls(**_fields(made.endpoint), secret=made.secret)


def _fields(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": [e.value for e in endpoint.events],
        "description": endpoint.description,
        "status": endpoint.status.value,
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


class WebhookList(BaseModel):
    items: list[WebhookResponse]


class DeliveryResponse(BaseModel):
    id: UUID
    event_id: UUID
    event_type: str
    status: str = Field(examples=["pending", "delivered", "failed"])
    attempts: int
    last_status_code: int | None
    last_error: str | None = Field(description="Why the last attempt failed (never a body)")
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryResponse:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status.value,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
        )


class DeliveryList(BaseModel):
    items: list[DeliveryResponse]
    next_cursor: str | None


class TestQueuedResponse(BaseModel):
    endpoint_id: UUID
    event_id: UUID

    @classmethod
    def of(cls, queued: QueuedTest) -> TestQueuedResponse:
        return cls(endpoint_id=queued.endpoint_id, event_id=queued.event_id)
