"""An event committed but never delivered (the process died) is delivered at the next start."""

from __future__ import annotations

from uuid import UUID

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.models import EventDeliveryModel, OutboxEventModel
from tests.api.support import FastContainer, UndeliveredContainer, fetch, running


async def test_undelivered_event_is_delivered_at_the_next_start(settings: Settings) -> None:
    crashed = UndeliveredContainer(settings)
    async with running(crashed) as (_app, client):
        response = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": "a long passphrase"}
        )
        assert response.status_code == 201, response.text
        [pending] = await fetch(crashed, OutboxEventModel)
        assert pending.delivered_at is None
        assert pending.attempts == 0
        assert await fetch(crashed, EventDeliveryModel) == []

    restarted = FastContainer(settings)
    async with running(restarted):
        [event] = await fetch(restarted, OutboxEventModel)
        deliveries = await fetch(restarted, EventDeliveryModel)
        again = await restarted.event_bus.deliver_pending()

    assert event.id == pending.id
    assert event.payload["user_id"] == str(UUID(response.json()["id"]))
    assert event.delivered_at is not None
    assert event.attempts == 1
    assert [(d.event_id, d.subscriber) for d in deliveries] == [(event.id, "logging")]
    assert again == 0  # delivered once; a later scan finds nothing pending
