"""Events through the running API: a backlog at start-up, retries in the background loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import cached_property
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.config import Settings
from dashtam.core.ids import new_id
from dashtam.domain.events import EventEnvelope
from dashtam.domain.users.events import UserRegistered
from dashtam.infrastructure.events import LoggingSubscriber, OutboxRelay
from dashtam.infrastructure.persistence.models import EventDeliveryModel, OutboxEventModel
from tests.api.support import FastContainer, UndeliveredContainer, dashtam, fetch, running


async def test_undelivered_event_is_delivered_at_the_next_start(settings: Settings) -> None:
    # A process that dies right after commit: no background loop gets to deliver either.
    crashed = UndeliveredContainer(settings.model_copy(update={"event_retry_interval_seconds": 0}))
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
    assert deliveries == []  # fully delivered by one attempt: nothing to skip on a retry
    assert again == 0  # delivered once; a later scan finds nothing pending


class FlakySubscriber:
    """Fails its first ``failures`` calls, then succeeds; remembers when it was called."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[float] = []

    def accepts(self, event_type: str) -> bool:
        return event_type == "UserRegistered"

    async def handle(self, event: EventEnvelope) -> None:
        self.calls.append(time.monotonic())
        if len(self.calls) <= self.failures:
            raise RuntimeError("downstream unavailable")


class FlakyContainer(FastContainer):
    """The real event bus with one more subscriber, which fails at first, and a short backoff."""

    BACKOFF = 0.2

    def __init__(self, settings: Settings, *, failures: int) -> None:
        super().__init__(settings)
        self.flaky = FlakySubscriber(failures)

    @cached_property
    def event_bus(self) -> OutboxRelay:
        return OutboxRelay(
            database=self.database,
            logger=self.logger("dashtam.events"),
            subscribers=[LoggingSubscriber(logger=self.logger("dashtam.events")), self.flaky],
            backoff_base_seconds=self.BACKOFF,
        )


async def _until(condition: Callable[[], Awaitable[bool]], *, seconds: float = 30) -> None:
    """Poll ``condition``; fail after a generous ``seconds`` (a bound, not a performance figure)."""
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition still false after {seconds} s")


async def _seed_backlog(container: FastContainer, count: int) -> None:
    start = utcnow() - timedelta(hours=1)
    async with container.database.transaction() as session:
        for index in range(count):
            event = UserRegistered(user_id=new_id(), email=f"backlog{index}@example.com")
            row = OutboxEventModel.from_event(event, trace_id=None)
            row.created_at = start + timedelta(milliseconds=index)
            session.add(row)


async def test_a_start_delivers_a_backlog_of_many_batches(settings: Settings) -> None:
    seeding = FastContainer(settings)
    await _seed_backlog(seeding, 350)
    await seeding.aclose()

    restarted = FlakyContainer(
        settings.model_copy(update={"event_retry_interval_seconds": 0}), failures=0
    )
    async with running(restarted):
        # Start-up delivers within its budget and leaves the rest to a background task.
        async def drained() -> bool:
            return not await fetch(
                restarted, OutboxEventModel, OutboxEventModel.delivered_at.is_(None)
            )

        await _until(drained)
    # Every event was delivered at least once (none pending): 350 calls means exactly once.
    assert len(restarted.flaky.calls) == 350, "each event delivered once"


async def test_the_running_api_retries_a_failed_delivery_with_backoff(settings: Settings) -> None:
    container = FlakyContainer(
        settings.model_copy(update={"event_retry_interval_seconds": 0.05}), failures=2
    )
    async with running(container) as (_app, client):
        response = await client.post(
            "/api/v1/users", json={"email": "retry@example.com", "password": "a long passphrase"}
        )
        assert response.status_code == 201, response.text
        [pending] = await fetch(container, OutboxEventModel)
        assert pending.delivered_at is None, "the request's own delivery failed"

        async def delivered() -> bool:
            [row] = await fetch(container, OutboxEventModel)
            return row.delivered_at is not None

        await _until(delivered)
        [event] = await fetch(container, OutboxEventModel)
        deliveries = await fetch(container, EventDeliveryModel)

    assert event.attempts == 3
    assert (event.last_error, event.next_attempt_at) == (None, None)
    # The record that let the retries skip the subscriber that had the event: the last retry
    # completed it, and a completed event needs no record of its own.
    assert [d.subscriber for d in deliveries] == ["logging"]
    first, second, third = container.flaky.calls
    # Each retry waited at least its backoff (0.2 s, then 0.4 s); the loop polls every 0.05 s.
    slack = 0.02  # the schedule uses the wall clock, the subscriber the monotonic one
    assert second - first >= FlakyContainer.BACKOFF - slack
    assert third - second >= 2 * FlakyContainer.BACKOFF - slack


async def test_a_zero_retry_interval_turns_the_loop_off(settings: Settings) -> None:
    container = FlakyContainer(
        settings.model_copy(update={"event_retry_interval_seconds": 0}), failures=1
    )
    container.BACKOFF = 0
    async with running(container) as (_app, client):
        response = await client.post(
            "/api/v1/users", json={"email": "off@example.com", "password": "a long passphrase"}
        )
        assert response.status_code == 201, response.text
        await asyncio.sleep(0.3)  # ample time for a loop, were there one, to retry at once
        [event] = await fetch(container, OutboxEventModel)
    assert (event.attempts, event.delivered_at) == (1, None)
    assert len(container.flaky.calls) == 1


async def test_relay_once_delivers_the_whole_backlog(settings: Settings) -> None:
    seeding = FastContainer(settings)
    await _seed_backlog(seeding, 250)
    try:
        code, out, err = await dashtam(settings.database_url, "events", "relay", "--once")
        pending = await fetch(seeding, OutboxEventModel, OutboxEventModel.delivered_at.is_(None))
    finally:
        await seeding.aclose()
    assert (code, err) == (0, ""), err
    assert out.strip() == "delivered 250 event(s)"
    assert pending == []
