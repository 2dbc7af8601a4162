"""The outbox subscriber that turns committed events into pending webhook deliveries.

It only writes rows (one per subscribed, active endpoint of the event's owner) in the relay
batch's own transaction; the sender posts them later. Redelivering an event is harmless:
an (endpoint, event) pair is queued at most once (unique key, ``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.domain.events import EventEnvelope
from dashtam.domain.webhooks.entities import EndpointStatus, NewDelivery
from dashtam.domain.webhooks.payloads import envelope_body, webhook_event_of
from dashtam.infrastructure.events.batch import batch_session
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.webhooks import WebhookEndpointModel
from dashtam.infrastructure.persistence.repositories.webhooks import queue_statement

_SOURCES = frozenset(
    {
        "StatementImported",
        "SyncCompleted",
        "AccountDeleted",
        "ProviderDisconnected",
        "SyncFailed",
        "ConnectionNeedsAttention",
    }
)


class WebhookFanOut:
    """Queues a delivery for each of the owner's active endpoints subscribed to the event."""

    name = "webhooks"

    def __init__(self, *, database: Database) -> None:
        self._database = database

    def accepts(self, event_type: str) -> bool:
        return event_type in _SOURCES

    async def handle(self, event: EventEnvelope) -> None:
        webhook = webhook_event_of(event)
        if webhook is None:
            return
        session = batch_session()
        if session is None:  # outside a relay batch (a test, a tool): a transaction of its own
            async with self._database.transaction() as own:
                await self._queue(own, event, webhook.user_id, webhook.event_type, webhook.data)
            return
        # A savepoint: a failure here undoes only this subscriber's rows, not the batch's.
        async with session.begin_nested():
            await self._queue(session, event, webhook.user_id, webhook.event_type, webhook.data)

    @staticmethod
    async def _queue(
        session: AsyncSession,
        event: EventEnvelope,
        user_id: object,
        event_type: str,
        data: dict[str, object],
    ) -> None:
        rows = await session.execute(
            select(WebhookEndpointModel.id, WebhookEndpointModel.events).where(
                WebhookEndpointModel.user_id == user_id,
                WebhookEndpointModel.status == EndpointStatus.ACTIVE.value,
            )
        )
        targets = [row.id for row in rows if event_type in row.events]
        if not targets:
            return
        body = envelope_body(
            event_id=event.event_id,
            event_type=event_type,
            created_at=event.occurred_at,
            data=data,
        )
        deliveries = [
            NewDelivery(
                endpoint_id=endpoint_id,
                event_id=event.event_id,
                event_type=event_type,
                payload=body,
                due_at=event.occurred_at,
            )
            for endpoint_id in targets
        ]
        await session.execute(queue_statement(session, deliveries))
