"""Which committed events become webhooks, and the JSON each one carries.

Every webhook body has one shape (``PAYLOAD_VERSION`` 1)::

    {"id": <event id>, "type": "transactions.updated", "version": 1,
     "created_at": <ISO 8601 UTC>, "data": {...}}

``id`` is the id of the event that caused it, the same for every endpoint and every retry:
receivers deduplicate on it. ``data`` holds ids, counts and safe messages, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from dashtam.domain.events import EventEnvelope
from dashtam.domain.webhooks.entities import PAYLOAD_VERSION, WebhookEventType

_UPDATED = WebhookEventType.TRANSACTIONS_UPDATED


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A committed event seen as a webhook: whose it is, its type and its ``data``."""

    user_id: UUID
    event_type: str
    data: dict[str, Any]


def webhook_event_of(envelope: EventEnvelope) -> WebhookEvent | None:
    """The webhook a committed event causes, or None (not one receivers are told about)."""
    payload = envelope.payload
    user_id = payload.get("user_id")
    if not isinstance(user_id, str):
        return None
    shaped = _shape(envelope.event_type, payload)
    if shaped is None:
        return None
    event_type, data = shaped
    return WebhookEvent(user_id=UUID(user_id), event_type=event_type.value, data=data)


def _shape(event_type: str, p: dict[str, Any]) -> tuple[WebhookEventType, dict[str, Any]] | None:
    match event_type:
        case "StatementImported" | "SyncCompleted":
            counts = _counts(p)
            if not any(counts.values()):
                return None  # read again, nothing changed: nothing to tell
            reason = "import" if event_type == "StatementImported" else "sync"
            return _UPDATED, _updated(reason, p.get("connection_id"), None, counts)
        case "AccountDeleted":
            return _UPDATED, _updated("account_deleted", None, p.get("account_id"), None)
        case "ProviderDisconnected" if p.get("purged") is True:
            return _UPDATED, _updated("connection_purged", p.get("connection_id"), None, None)
        case "SyncFailed":
            return WebhookEventType.SYNC_FAILED, {
                "connection_id": p.get("connection_id"),
                "code": p.get("code"),
                "message": p.get("message"),
                "will_retry": bool(p.get("will_retry")),
            }
        case "ConnectionNeedsAttention":
            return WebhookEventType.CONNECTION_NEEDS_ATTENTION, {
                "connection_id": p.get("connection_id"),
                "message": p.get("message"),
            }
    return None


def _counts(p: dict[str, Any]) -> dict[str, int]:
    return {
        name: int(p.get(name) or 0)
        for name in ("transactions_new", "transactions_updated", "transactions_removed")
    }


def _updated(
    reason: str, connection_id: object, account_id: object, counts: dict[str, int] | None
) -> dict[str, Any]:
    # One key set for every reason; counts are null when the event does not know them.
    empty: dict[str, int | None] = {
        "transactions_new": None,
        "transactions_updated": None,
        "transactions_removed": None,
    }
    return {
        "reason": reason,
        "connection_id": connection_id,
        "account_id": account_id,
        **(counts if counts is not None else empty),
    }


def envelope_body(
    *, event_id: UUID, event_type: str, created_at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The body posted to an endpoint (stored with the delivery, signed when sent)."""
    return {
        "id": str(event_id),
        "type": event_type,
        "version": PAYLOAD_VERSION,
        "created_at": created_at.isoformat(),
        "data": data,
    }
