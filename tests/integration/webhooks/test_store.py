"""Fan-out, claims and the endpoint repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

from dashtam.core.config import Settings
from dashtam.core.errors import ConflictError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.domain.events import EventEnvelope
from dashtam.domain.webhooks.entities import NewDelivery
from dashtam.infrastructure.persistence.models import OutboxEventModel, WebhookDeliveryModel
from tests.api.support import UndeliveredContainer, fetch
from tests.integration.webhooks.support import (
    FAST,
    commit_events,
    deliveries,
    imported,
    register,
    webhook_container,
)
from tests.webhook_receiver import Receiver


async def test_an_event_handled_twice_queues_one_delivery(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    try:
        user_id, _ = await register(container, receiver)
        event = imported(user_id)
        await commit_events(container, event)
        [outbox] = await fetch(container, OutboxEventModel, OutboxEventModel.id == event.event_id)
        envelope = EventEnvelope(
            event_id=outbox.id,
            event_type=outbox.event_type,
            occurred_at=outbox.occurred_at,
            payload=dict(outbox.payload),
        )
        await container.webhooks.fanout.handle(envelope)  # delivered again (at least once)
        rows = await deliveries(container)
        assert await container.webhooks.sender.deliver_due() == 1
        assert await container.webhooks.sender.deliver_due() == 0
    finally:
        await container.aclose()

    assert [(r.event_id, r.status) for r in rows] == [(event.event_id, "pending")]
    assert len(receiver.received) == 1


async def test_an_event_committed_before_a_crash_is_fanned_out_later(
    settings: Settings, receiver: Receiver
) -> None:
    crashed = UndeliveredContainer(settings.model_copy(update=FAST))
    try:
        user_id, _ = await register(crashed, receiver)
        event = imported(user_id)
        await commit_events(crashed, event)
        assert await deliveries(crashed) == []
    finally:
        await crashed.aclose()
    restarted = webhook_container(settings)
    try:
        await restarted.event_bus.deliver_pending()
        assert await restarted.webhooks.sender.deliver_due() == 1
    finally:
        await restarted.aclose()

    [got] = receiver.received
    assert got.json["id"] == str(event.event_id)
    assert got.signature_valid


async def test_two_senders_never_post_one_delivery_at_the_same_time(
    settings: Settings, receiver: Receiver
) -> None:
    # A generous timeout: a slow answer is retried later, which is not what this test is about.
    first = webhook_container(settings, webhook_timeout_seconds=10)
    second = webhook_container(settings, webhook_timeout_seconds=10)
    try:
        user_id, _ = await register(first, receiver)
        await commit_events(first, *[imported(user_id) for _ in range(24)])
        senders = [first.webhooks.sender, second.webhooks.sender]

        async def drain(index: int) -> int:
            sent = 0
            while count := await senders[index].deliver_due(limit=4):
                sent += count
            return sent

        sent = await asyncio.gather(drain(0), drain(1), drain(0), drain(1))
        rows = await deliveries(first)
    finally:
        await first.aclose()
        await second.aclose()

    assert sum(sent) == 24
    posted = Counter(r.headers["dashtam-delivery-id"] for r in receiver.received)
    assert len(posted) == 24
    assert set(posted.values()) == {1}
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}


async def test_the_repository_keeps_endpoints_to_their_owner(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    try:
        user_id, created = await register(container, receiver)
        endpoint = created.endpoint
        async with container.unit_of_work() as uow:
            mine = await uow.webhooks.get_owned(user_id, endpoint.id)
            theirs = await uow.webhooks.get_owned(new_id(), endpoint.id)
            count = await uow.webhooks.count_for_user(user_id)
            endpoint.description = "changed"
            updated = await uow.webhooks.update(endpoint)
            stale = await uow.webhooks.update(endpoint)  # still the old version
        assert isinstance(mine, Success)
        assert mine.value is not None
        assert (mine.value.id, mine.value.url) == (endpoint.id, endpoint.url)
        assert mine.value.sealed_secret == endpoint.sealed_secret
        assert theirs == Success(None)
        assert count == Success(1)
        assert isinstance(updated, Success)
        assert updated.value.version == endpoint.version + 1
        assert isinstance(stale, Failure)
        assert isinstance(stale.error, ConflictError)
        assert stale.error.code == "stale_version"
    finally:
        await container.aclose()


async def test_the_delivery_log_pages_newest_first_and_goes_with_its_endpoint(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    try:
        _, created = await register(container, receiver)
        endpoint_id = created.endpoint.id
        async with container.unit_of_work() as uow:
            for _ in range(5):
                queued = await uow.webhooks.queue(
                    NewDelivery(
                        endpoint_id=endpoint_id,
                        event_id=new_id(),
                        event_type="webhook.test",
                        payload={"id": "x"},
                        due_at=created.endpoint.created_at,
                    )
                )
                assert queued == Success(True)
            assert isinstance(await uow.commit(), Success)
        async with container.unit_of_work() as uow:
            first = await uow.webhooks.deliveries(endpoint_id, before=None, limit=3)
            assert isinstance(first, Success)
            rest = await uow.webhooks.deliveries(endpoint_id, before=first.value[-1].id, limit=3)
            assert isinstance(rest, Success)
            assert await uow.webhooks.delete(endpoint_id) == Success(None)
            assert isinstance(await uow.commit(), Success)
        left = await fetch(container, WebhookDeliveryModel)
    finally:
        await container.aclose()

    ids = [d.id for d in [*first.value, *rest.value]]
    assert len(ids) == 5
    assert ids == sorted(ids, reverse=True)
    assert left == []
