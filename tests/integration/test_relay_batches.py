"""Batched delivery: whole backlogs, backoff, dead letters and concurrent relays, both backends."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from uuid import UUID

from sqlalchemy import func, select

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.events import EventEnvelope
from dashtam.domain.users.events import UserRegistered
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.outbox import EventDeliveryModel, OutboxEventModel
from tests.fakes.logger import RecordingLogger


class Recorder:
    """Records what it receives; fails for the event ids in ``failing`` (``times`` times each)."""

    def __init__(
        self, name: str = "recorder", *, failing: set[UUID] | None = None, times: int = 1_000
    ) -> None:
        self.name = name
        self.received: list[UUID] = []
        self.calls: Counter[UUID] = Counter()
        self._failing = failing or set()
        self._times = times

    def accepts(self, event_type: str) -> bool:
        return True

    async def handle(self, event: EventEnvelope) -> None:
        self.calls[event.event_id] += 1
        if event.event_id in self._failing and self.calls[event.event_id] <= self._times:
            raise RuntimeError("subscriber down")
        self.received.append(event.event_id)


def _relay(
    database: Database, *subscribers: Recorder, logger: RecordingLogger | None = None, **kw: float
) -> OutboxRelay:
    return OutboxRelay(
        database=database,
        logger=logger or RecordingLogger(),
        subscribers=subscribers,
        **kw,  # type: ignore[arg-type]
    )


async def _seed(database: Database, count: int) -> list[UUID]:
    """``count`` committed, undelivered events, oldest first (as if every process had died)."""
    start = utcnow() - timedelta(hours=1)
    rows = []
    for index in range(count):
        event = UserRegistered(user_id=new_id(), email=f"user{index}@example.com")
        row = OutboxEventModel.from_event(event, trace_id=None)
        row.created_at = start + timedelta(milliseconds=index)
        rows.append(row)
    async with database.transaction() as session:
        session.add_all(rows)
    return [row.id for row in rows]


async def _pending(database: Database) -> int:
    async with database.get_session() as session:
        query = select(func.count()).where(OutboxEventModel.delivered_at.is_(None))
        return int(await session.scalar(query) or 0)


async def _until_nothing_pending(database: Database, *, seconds: float = 60) -> None:
    """Wait (polling) until no event is pending; fail after a generous ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if not await _pending(database):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"events still pending after {seconds} s")


async def _deliveries(database: Database) -> Counter[tuple[UUID, str]]:
    async with database.get_session() as session:
        rows = (
            await session.execute(
                select(EventDeliveryModel.event_id, EventDeliveryModel.subscriber)
            )
        ).all()
    return Counter((row.event_id, row.subscriber) for row in rows)


async def _row(database: Database, event_id: UUID) -> OutboxEventModel:
    async with database.get_session() as session:
        row = await session.get(OutboxEventModel, event_id)
        assert row is not None
        return row


async def test_a_backlog_bigger_than_a_batch_is_fully_delivered(database: Database) -> None:
    event_ids = await _seed(database, 350)
    recorder = Recorder()
    delivered = await _relay(database, recorder, batch_size=100).deliver_pending()
    assert delivered == 350
    assert recorder.received == event_ids, "every event, once, oldest first"
    assert await _pending(database) == 0
    # Each completed in one attempt: no per-subscriber record is left for a retry to read.
    assert await _deliveries(database) == Counter()


async def test_a_drain_out_of_budget_stops_and_the_loop_carries_on(database: Database) -> None:
    await _seed(database, 250)
    recorder = Recorder()
    relay = _relay(database, recorder, batch_size=100)
    first = await relay.drain(budget_seconds=0)
    assert (first.delivered, first.complete) == (100, False), "one batch, then it yields"

    stop = asyncio.Event()
    loop = asyncio.create_task(relay.run(stop=stop, poll_interval=0.05))
    try:
        await _until_nothing_pending(database)
    finally:
        stop.set()
        await loop
    assert len(recorder.received) == len(set(recorder.received)) == 250


async def test_a_failed_event_waits_for_its_backoff(database: Database) -> None:
    [event_id] = await _seed(database, 1)
    flaky = Recorder(failing={event_id}, times=1)
    relay = _relay(database, flaky, backoff_base_seconds=60, backoff_max_seconds=600)
    before = utcnow()
    assert await relay.deliver_pending() == 0
    row = await _row(database, event_id)
    assert row.attempts == 1
    assert row.last_error == "recorder: RuntimeError"
    assert row.next_attempt_at is not None
    assert before + timedelta(seconds=60) <= row.next_attempt_at <= utcnow() + timedelta(seconds=60)

    assert await relay.deliver_pending() == 0, "not due yet: no second attempt"
    assert flaky.calls[event_id] == 1

    # Doubling per attempt, capped.
    assert [relay.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 50)] == [
        60,
        120,
        240,
        480,
        600,
        600,
    ]


async def test_a_due_retry_succeeds_and_clears_the_schedule(database: Database) -> None:
    [event_id] = await _seed(database, 1)
    flaky = Recorder(failing={event_id}, times=2)
    relay = _relay(database, flaky, backoff_base_seconds=0.2)
    assert await relay.deliver_pending() == 0
    await asyncio.sleep(0.25)
    assert await relay.deliver_pending() == 0  # second failure: due again after 0.4 s
    await asyncio.sleep(0.45)
    assert await relay.deliver_pending() == 1
    row = await _row(database, event_id)
    assert (row.attempts, row.last_error, row.next_attempt_at) == (3, None, None)
    assert row.delivered_at is not None
    assert flaky.received == [event_id]


async def test_one_failing_event_does_not_hold_back_its_batch(database: Database) -> None:
    event_ids = await _seed(database, 30)
    broken = event_ids[10]
    steady, picky = Recorder("steady"), Recorder("picky", failing={broken})
    relay = _relay(database, steady, picky, batch_size=100, backoff_base_seconds=0)
    assert await relay.deliver_pending() == 29
    assert await _pending(database) == 1
    # The retry calls only the subscriber that failed: steady already has its delivery row.
    await relay.deliver_pending()
    assert steady.calls[broken] == 1
    assert picky.calls[broken] == 2
    deliveries = await _deliveries(database)
    assert deliveries[(broken, "steady")] == 1
    assert deliveries[(broken, "picky")] == 0


async def test_dead_letter_after_max_attempts_is_logged_as_an_error(database: Database) -> None:
    [event_id] = await _seed(database, 1)
    logger = RecordingLogger()
    broken = Recorder(failing={event_id})
    relay = _relay(database, broken, logger=logger, max_attempts=3, backoff_base_seconds=0)
    for _ in range(5):
        await relay.deliver_pending()
    assert broken.calls[event_id] == 3, "never attempted past max_attempts"
    row = await _row(database, event_id)
    assert (row.attempts, row.delivered_at) == (3, None)
    [dead] = logger.find("event_dead_lettered")
    assert dead.level == "error"
    assert dead.fields["event_id"] == str(event_id)
    assert dead.fields["attempts"] == 3


async def test_deliver_takes_only_the_given_events(database: Database) -> None:
    event_ids = await _seed(database, 5)
    recorder = Recorder()
    relay = _relay(database, recorder, batch_size=2)
    assert await relay.deliver(event_ids[1:4]) == 3
    assert recorder.received == event_ids[1:4]
    assert await relay.deliver(event_ids[1:4]) == 0, "already delivered"
    assert await _pending(database) == 2


async def test_concurrent_relays_deliver_every_event_exactly_once(database_url: str) -> None:
    seeding = Database(database_url)
    try:
        event_ids = await _seed(seeding, 300)
    finally:
        await seeding.close()

    # Three "processes": separate Database objects, so separate pools and connections.
    processes = [Database(database_url, pool_size=2) for _ in range(3)]
    recorders = [Recorder() for _ in processes]
    try:
        results = await asyncio.gather(
            *(
                _relay(db, recorder, batch_size=25).deliver_pending()
                for db, recorder in zip(processes, recorders, strict=True)
            )
        )
        deliveries = await _deliveries(processes[0])
        pending = await _pending(processes[0])
    finally:
        for db in processes:
            await db.close()
    received = Counter(e for recorder in recorders for e in recorder.received)
    assert received == Counter(event_ids), "each event handled once, by one relay"
    assert sum(results) == 300
    assert deliveries == Counter()  # every event completed at its first attempt
    assert pending == 0
