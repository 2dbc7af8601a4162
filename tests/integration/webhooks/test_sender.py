"""The sender against a real receiver on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from dashtam.core.config import Settings
from dashtam.domain.providers.events import SyncFailed
from dashtam.infrastructure.persistence.models import WebhookEndpointModel
from dashtam.infrastructure.webhooks.signing import verify
from tests.api.support import fetch
from tests.integration.webhooks.support import (
    commit_events,
    deliveries,
    imported,
    make_due,
    register,
    webhook_container,
)
from tests.webhook_receiver import Receiver


async def test_an_event_is_posted_signed_with_its_headers(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    try:
        user_id, created = await register(container, receiver)
        event = imported(user_id)
        await commit_events(container, event)
        assert await container.webhooks.sender.deliver_due() == 1
    finally:
        await container.aclose()

    [got] = receiver.received
    assert got.signature_valid
    assert verify(created.secret, got.headers["dashtam-signature"], got.body)
    assert not verify("whsec_other", got.headers["dashtam-signature"], got.body)
    assert got.path == "/hooks/dashtam?tag=1"
    assert got.headers["dashtam-event-id"] == str(event.event_id)
    assert got.headers["dashtam-event-type"] == "transactions.updated"
    assert got.headers["dashtam-delivery-attempt"] == "1"
    assert got.headers["host"] == receiver.url.split("/")[2]
    assert got.json == {
        "id": str(event.event_id),
        "type": "transactions.updated",
        "version": 1,
        "created_at": event.occurred_at.isoformat(),
        "data": {
            "reason": "import",
            "connection_id": str(event.connection_id),
            "account_id": None,
            "transactions_new": 3,
            "transactions_updated": 0,
            "transactions_removed": 0,
        },
    }
    assert created.secret.encode() not in got.body


async def test_failures_are_retried_with_backoff_then_delivered(
    settings: Settings, receiver: Receiver
) -> None:
    # A base of 20 s: "not due before its backoff" must hold however slow the machine is
    # between two calls (make_due stands in for the wait).
    container = webhook_container(settings, webhook_max_attempts=5, webhook_backoff_seconds=20.0)
    receiver.answer(500, 503)
    try:
        user_id, _ = await register(container, receiver)
        await commit_events(container, imported(user_id))
        sender = container.webhooks.sender
        waits = []
        for _attempt in range(2):
            assert await sender.deliver_due() == 1
            [row] = await deliveries(container)
            assert row.status == "pending"
            assert row.next_attempt_at is not None
            assert row.last_attempt_at is not None
            waits.append(row.next_attempt_at - row.last_attempt_at)
            assert await sender.deliver_due() == 0  # not due before its backoff
            await make_due(container)
        assert await sender.deliver_due() == 1
        [row] = await deliveries(container)
    finally:
        await container.aclose()

    # Base 20 s: the first wait is 10-20 s, the second (doubled) 20-40 s, jitter included. The
    # wait is measured from the claim, so it also holds the attempt's own duration: the upper
    # bounds allow for a slow machine (the exact schedule is the policy's unit test).
    slow = timedelta(seconds=2)
    assert timedelta(seconds=10) <= waits[0] <= timedelta(seconds=20) + slow
    assert timedelta(seconds=20) <= waits[1] <= timedelta(seconds=40) + slow
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)
    assert row.last_error is None
    assert row.delivered_at is not None
    attempts = [r.headers["dashtam-delivery-attempt"] for r in receiver.received]
    assert attempts == ["1", "2", "3"]
    assert len({r.headers["dashtam-event-id"] for r in receiver.received}) == 1
    assert all(r.signature_valid for r in receiver.received)


async def test_the_last_failed_attempt_fails_the_delivery(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings, webhook_max_attempts=2, webhook_disable_after=5)
    receiver.answer(500, "redirect")
    try:
        user_id, _ = await register(container, receiver)
        await commit_events(container, imported(user_id))
        assert await container.webhooks.sender.deliver_due() == 1
        await make_due(container)
        assert await container.webhooks.sender.deliver_due() == 1
        await make_due(container)
        assert await container.webhooks.sender.deliver_due() == 0
        [row] = await deliveries(container)
        [endpoint] = await fetch(container, WebhookEndpointModel)
    finally:
        await container.aclose()

    assert (row.status, row.attempts, row.last_status_code) == ("failed", 2, 302)
    assert row.last_error == "redirect not followed (HTTP 302)"
    assert row.next_attempt_at is None
    assert row.delivered_at is None
    assert len(receiver.received) == 2  # the redirect to a metadata address was not followed
    assert (endpoint.status, endpoint.consecutive_failures) == ("active", 1)


async def test_a_receiver_that_hangs_times_out_and_is_retried(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings, webhook_timeout_seconds=0.2)
    receiver.answer("hang")
    try:
        user_id, _ = await register(container, receiver)
        await commit_events(container, imported(user_id))
        assert await container.webhooks.sender.deliver_due() == 1
        [row] = await deliveries(container)
    finally:
        await container.aclose()

    assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, None)
    assert row.last_error == "timed out"


async def test_repeated_failed_deliveries_disable_the_endpoint(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings, webhook_max_attempts=1, webhook_disable_after=2)
    receiver.answer(500, 500, 500)
    try:
        user_id, _ = await register(container, receiver)
        await commit_events(container, imported(user_id), imported(user_id))
        assert await container.webhooks.sender.deliver_due() == 2
        await commit_events(container, imported(user_id))
        assert await container.webhooks.sender.deliver_due() == 0  # disabled: nothing queued
        [endpoint] = await fetch(container, WebhookEndpointModel)
        rows = await deliveries(container)
    finally:
        await container.aclose()

    assert endpoint.status == "disabled"
    assert endpoint.disabled_reason == "2 deliveries in a row failed (last: HTTP 500)"
    assert endpoint.consecutive_failures == 2
    assert [r.status for r in rows] == ["failed", "failed"]
    assert len(receiver.received) == 2


async def test_a_delivery_resets_the_run_of_failures(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings, webhook_max_attempts=1, webhook_disable_after=2)
    receiver.answer(500)
    try:
        user_id, _ = await register(container, receiver)
        await commit_events(container, imported(user_id))
        await container.webhooks.sender.deliver_due()
        [failing] = await fetch(container, WebhookEndpointModel)
        await commit_events(container, imported(user_id))
        await container.webhooks.sender.deliver_due()
        [endpoint] = await fetch(container, WebhookEndpointModel)
    finally:
        await container.aclose()

    assert failing.consecutive_failures == 1
    assert (endpoint.status, endpoint.consecutive_failures) == ("active", 0)


async def test_a_private_address_is_refused_at_delivery_when_not_allowed(
    settings: Settings, receiver: Receiver
) -> None:
    # Registered while allowed; the setting changed since: every delivery checks again.
    allowed = webhook_container(settings)
    try:
        user_id, _ = await register(allowed, receiver)
    finally:
        await allowed.aclose()
    container = webhook_container(settings, webhooks_allow_private=False)
    try:
        await commit_events(container, imported(user_id))
        assert await container.webhooks.sender.deliver_due() == 1
        [row] = await deliveries(container)
    finally:
        await container.aclose()

    assert receiver.received == []
    assert row.status == "pending"
    assert row.last_error == "address refused: webhook_url_not_allowed"


async def test_only_subscribed_types_and_active_endpoints_get_deliveries(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    try:
        user_id, _ = await register(container, receiver, events=("sync.failed",))
        await register(container, receiver, email="bob@example.com")
        failed = SyncFailed(
            user_id=user_id,
            connection_id=imported(user_id).connection_id,
            code="bridge_unavailable",
            message="SimpleFIN did not answer",
            will_retry=True,
        )
        await commit_events(container, imported(user_id), failed)
        rows = await deliveries(container)
        await container.webhooks.sender.deliver_due()
    finally:
        await container.aclose()

    assert [(r.event_type, r.event_id) for r in rows] == [("sync.failed", failed.event_id)]
    [got] = receiver.received
    assert got.json["data"] == {
        "connection_id": str(failed.connection_id),
        "code": "bridge_unavailable",
        "message": "SimpleFIN did not answer",
        "will_retry": True,
    }
