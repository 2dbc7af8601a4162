"""Commands and results of the webhooks feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.webhooks.entities import WebhookEndpoint

MAX_DELIVERY_PAGE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateWebhook:
    user_id: UUID
    url: str
    events: tuple[str, ...]
    description: str | None
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateWebhook:
    """Only the fields given change; ``enabled=True`` re-enables (and resets the failures)."""

    user_id: UUID
    endpoint_id: UUID
    context: AuditContext
    url: str | None = None
    events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointCommand:
    """Delete an endpoint, send it a test event, or give it a new secret."""

    user_id: UUID
    endpoint_id: UUID
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class WithSecret:
    """An endpoint and its signing secret in clear: shown once, on creation or rotation."""

    endpoint: WebhookEndpoint
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedTest:
    endpoint_id: UUID
    event_id: UUID
