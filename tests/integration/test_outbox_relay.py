"""The outbox relay: at-least-once delivery after commit, retries, restarts, many relays."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import UUID

import pytest
from sqlalchemy import select

from dashtam.core.result import Success
from dashtam.domain.events import EventEnvelope
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.outbox import EventDeliveryModel, OutboxEventModel
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.audit_keys import signer_for_tests


class RecordingSubscriber:
    def __init__(self, name: str = "recorder", *, fail_times: int = 0) -> None:
        self.name = name
        self.received: list[EventEnvelope] = []
        self._fail_times = fail_times

    def accepts(self, event_type: str) -> bool:
        return event_type == "UserRegistered"

    async def handle(self, event: EventEnvelope) -> None:
        if self._fail_times > 0:
            self._fail_times -= 1
            raise RuntimeError("subscriber down")
        self.received.append(event)


def _relay(database: Database, *subscribers: RecordingSubscriber) -> OutboxRelay:
    """A relay that retries at once (backoff has tests of its own, in test_relay_batches)."""
    return OutboxRelay(
        database=database,
        logger=get_logger("test"),
        subscribers=subscribers,
        backoff_base_seconds=0,
    )


async def _commit_registration(
    database: Database, email: str, on_committed: OutboxRelay | None = None
) -> UUID:
    hook = on_committed.deliver if on_committed is not None else None
    uow = SqlUnitOfWork(
        database=database, logger=get_logger("test"), signer=signer_for_tests(), on_committed=hook
    )
    async with uow:
        user = User(email=Email(email), password_hash="hash")
        assert isinstance(await uow.users.add(user), Success)
        event = UserRegistered(user_id=user.id, email=email)
        uow.raise_event(event)
        assert isinstance(await uow.commit(), Success)
    return event.event_id


async def _outbox_row(database: Database, event_id: UUID) -> OutboxEventModel:
    async with database.get_session() as session:
        row = await session.get(OutboxEventModel, event_id)
        assert row is not None
        return row


async def test_committed_event_is_delivered_right_after_commit(database: Database) -> None:
    subscriber = RecordingSubscriber()
    relay = _relay(database, subscriber)
    event_id = await _commit_registration(database, "now@example.com", relay)
    assert [e.event_id for e in subscriber.received] == [event_id]
    assert subscriber.received[0].payload["email"] == "now@example.com"
    assert (await _outbox_row(database, event_id)).delivered_at is not None


async def test_undelivered_event_is_delivered_after_a_restart(database_url: str) -> None:
    first_process = Database(database_url)
    try:
        # The process "dies" after commit: nothing delivered the event.
        event_id = await _commit_registration(first_process, "restart@example.com")
    finally:
        await first_process.close()

    second_process = Database(database_url)
    try:
        subscriber = RecordingSubscriber()
        assert (await _outbox_row(second_process, event_id)).delivered_at is None
        delivered = await _relay(second_process, subscriber).deliver_pending()
        assert delivered == 1
        assert [e.event_id for e in subscriber.received] == [event_id]
        assert (await _outbox_row(second_process, event_id)).delivered_at is not None
        # Nothing left: a second scan delivers nothing again.
        assert await _relay(second_process, subscriber).deliver_pending() == 0
        assert len(subscriber.received) == 1
    finally:
        await second_process.close()


async def test_failed_subscriber_is_retried_and_others_are_not_repeated(
    database: Database,
) -> None:
    steady = RecordingSubscriber("steady")
    flaky = RecordingSubscriber("flaky", fail_times=1)
    relay = _relay(database, steady, flaky)
    event_id = await _commit_registration(database, "flaky@example.com", relay)

    row = await _outbox_row(database, event_id)
    assert row.delivered_at is None
    assert row.attempts == 1
    assert row.last_error is not None
    assert "flaky" in row.last_error

    assert await relay.deliver_pending() == 1
    assert len(steady.received) == 1, "a subscriber that already succeeded is not called again"
    assert len(flaky.received) == 1
    async with database.get_session() as session:
        names = (
            await session.scalars(
                select(EventDeliveryModel.subscriber).where(EventDeliveryModel.event_id == event_id)
            )
        ).all()
    # What let the retry skip "steady"; the retry completed the event, which then needs no
    # record of "flaky".
    assert names == ["steady"]


async def test_event_gives_up_after_max_attempts(database: Database) -> None:
    broken = RecordingSubscriber("broken", fail_times=100)
    relay = OutboxRelay(
        database=database,
        logger=get_logger("test"),
        subscribers=[broken],
        max_attempts=2,
        backoff_base_seconds=0,
    )
    event_id = await _commit_registration(database, "dead@example.com", relay)
    await relay.deliver_pending()
    assert (await _outbox_row(database, event_id)).attempts == 2
    assert await relay.deliver_pending() == 0
    assert (await _outbox_row(database, event_id)).attempts == 2


async def test_duplicate_subscriber_names_are_refused(database: Database) -> None:
    relay = _relay(database, RecordingSubscriber("same"))
    with pytest.raises(ValueError, match="already registered"):
        relay.subscribe(RecordingSubscriber("same"))


async def test_concurrent_relays_deliver_each_event_once(database_url: str) -> None:
    seeding = Database(database_url)
    try:
        event_ids: Sequence[UUID] = [
            await _commit_registration(seeding, f"many{i}@example.com") for i in range(20)
        ]
    finally:
        await seeding.close()

    processes = [Database(database_url, pool_size=3) for _ in range(3)]
    subscribers = [RecordingSubscriber() for _ in processes]
    try:
        results = await asyncio.gather(
            *(
                _relay(db, sub).deliver_pending()
                for db, sub in zip(processes, subscribers, strict=True)
            )
        )
    finally:
        for db in processes:
            await db.close()
    received = [e.event_id for sub in subscribers for e in sub.received]
    assert sorted(received) == sorted(event_ids)
    assert sum(results) == len(event_ids)


async def _relay_running(
    relay: OutboxRelay, stop: asyncio.Event, *, listen: bool
) -> asyncio.Task[None]:
    task = asyncio.create_task(relay.run(stop=stop, poll_interval=600, listen=listen))
    await asyncio.sleep(0.5)  # its first drain is done and, on PostgreSQL, it listens
    return task


async def _received(subscriber: RecordingSubscriber, count: int, within: float) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while len(subscriber.received) < count:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_listening_relay_is_woken_by_a_commit_not_by_its_poll(database: Database) -> None:
    subscriber = RecordingSubscriber()
    stop = asyncio.Event()
    task = await _relay_running(_relay(database, subscriber), stop, listen=True)
    try:
        # Committed by a process that does not deliver (no hook): only the relay can.
        event_id = await _commit_registration(database, "woken@example.com")
        # The poll is ten minutes away: delivery now can only come from the notification.
        assert await _received(subscriber, 1, within=30)
        assert [e.event_id for e in subscriber.received] == [event_id]
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def test_a_relay_that_does_not_listen_waits_for_its_poll(database: Database) -> None:
    subscriber = RecordingSubscriber()
    stop = asyncio.Event()
    # SQLite has no notifications: ``listen`` falls back to polling there.
    task = await _relay_running(_relay(database, subscriber), stop, listen=database.is_sqlite)
    try:
        await _commit_registration(database, "later@example.com")
        assert not await _received(subscriber, 1, within=1.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
