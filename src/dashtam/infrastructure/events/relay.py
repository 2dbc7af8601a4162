"""Outbox relay: delivers committed events to subscribers, at least once, after commit.

Events are delivered in batches, one transaction per batch (see ``batch.py``): any number of
relays in any number of processes take disjoint batches. Deliveries are recorded per
subscriber, so a retry skips the subscribers that already succeeded. A failed event is retried
with exponential backoff (``next_attempt_at``) until ``max_attempts``, then dead-lettered.

Trade-off: a batch's row locks (on SQLite, the database write lock) are held while its
subscribers run. In exchange a crashed relay loses nothing and delays nothing: its
transaction rolls back and the rows are free at once, with no lease to expire and no second
transaction per batch. The hold is bounded by ``batch_size`` and ``subscriber_timeout``; other
relays skip locked rows instead of waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dashtam.application.events import EventSubscriber, PreparesBatches
from dashtam.core.clock import utcnow
from dashtam.core.tracing import bound_trace_id
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.events import batch
from dashtam.infrastructure.events.wakeup import listening
from dashtam.infrastructure.persistence.database import Database

DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_BATCH_SIZE = 100
DEFAULT_BACKOFF_BASE_SECONDS = 2.0
DEFAULT_BACKOFF_MAX_SECONDS = 600.0
DEFAULT_SUBSCRIBER_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Drained:
    """Events delivered by ``drain``, and whether nothing due was left behind."""

    delivered: int
    complete: bool


class OutboxRelay:
    """The in-process event bus: subscribers registered here receive every committed event."""

    def __init__(
        self,
        *,
        database: Database,
        logger: LoggerProtocol,
        subscribers: Sequence[EventSubscriber] = (),
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        backoff_base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS,
        backoff_max_seconds: float = DEFAULT_BACKOFF_MAX_SECONDS,
        subscriber_timeout_seconds: float = DEFAULT_SUBSCRIBER_TIMEOUT_SECONDS,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._database = database
        self._logger = logger
        self._subscribers: list[EventSubscriber] = list(subscribers)
        self._max_attempts = max_attempts
        self._batch_size = batch_size
        self._backoff_base = backoff_base_seconds
        self._backoff_max = backoff_max_seconds
        self._subscriber_timeout = subscriber_timeout_seconds

    def subscribe(self, subscriber: EventSubscriber) -> None:
        if any(existing.name == subscriber.name for existing in self._subscribers):
            raise ValueError(f"a subscriber named {subscriber.name!r} is already registered")
        self._subscribers.append(subscriber)

    def backoff(self, attempts: int) -> timedelta:
        """How long an event waits after its ``attempts``-th failed attempt."""
        exponent = min(max(attempts - 1, 0), 32)  # 2**32 base units exceeds any sane cap
        return timedelta(seconds=min(self._backoff_base * 2**exponent, self._backoff_max))

    async def deliver(self, event_ids: Sequence[UUID]) -> int:
        """Deliver these just-committed events now; returns how many were fully delivered.

        Never raises: a failure leaves the event pending for the retry loop.
        """
        delivered = 0
        for start in range(0, len(event_ids), self._batch_size):
            chunk = event_ids[start : start + self._batch_size]
            delivered += len((await self._deliver_batch(event_ids=chunk)).delivered)
        return delivered

    async def deliver_pending(self) -> int:
        """Deliver every due event, batch after batch; returns how many were delivered."""
        return (await self.drain()).delivered

    async def drain(
        self, *, budget_seconds: float | None = None, stop: asyncio.Event | None = None
    ) -> Drained:
        """Deliver due events batch by batch until a batch comes back short.

        Stops early (``complete=False``) once ``budget_seconds`` have passed or ``stop`` is set,
        so that a caller such as start-up is never held for long by a big backlog.
        """
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        delivered = 0
        while True:
            outcome = await self._deliver_batch()
            delivered += len(outcome.delivered)
            if outcome.claimed < self._batch_size:
                return Drained(delivered=delivered, complete=True)
            if (stop is not None and stop.is_set()) or (
                deadline is not None and time.monotonic() >= deadline
            ):
                return Drained(delivered=delivered, complete=False)

    async def run(
        self, *, stop: asyncio.Event, poll_interval: float = 1.0, listen: bool = False
    ) -> None:
        """Drain, then poll every ``poll_interval`` seconds, until ``stop`` is set.

        ``listen`` (PostgreSQL): also drain as soon as a commit announces events, so a relay
        delivers within milliseconds what processes that do not deliver their own wrote.
        """
        if not listen or self._database.is_sqlite:
            while not stop.is_set():
                await self.drain(stop=stop)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=poll_interval)
            return
        async with listening(self._database, self._logger) as wakeup:
            while not stop.is_set():
                wakeup.arm()
                await self.drain(stop=stop)
                await wakeup.wait(stop, poll_interval)

    async def _deliver_batch(
        self, *, event_ids: Sequence[UUID] | None = None
    ) -> batch.BatchOutcome:
        outcome = batch.BatchOutcome()
        try:
            async with self._database.transaction() as session:
                claimed = await batch.claim(
                    session,
                    now=utcnow(),
                    max_attempts=self._max_attempts,
                    limit=self._batch_size,
                    event_ids=event_ids,
                )
                if not claimed:
                    return outcome
                outcome.claimed = len(claimed)
                done = await batch.past_deliveries(session, claimed)
                with batch.serving(session):  # a subscriber that writes, writes in this batch
                    await self._prepare(claimed, done)
                    for event in claimed:
                        await self._deliver_event(event, done, outcome)
                now = utcnow()
                await batch.record(
                    session,
                    outcome=outcome,
                    attempts={e.envelope.event_id: e.attempts for e in claimed},
                    now=now,
                    next_attempt=self._schedule_retries(claimed, outcome, now),
                )
        except DB_ERRORS as exc:
            # Rolled back: whatever subscribers saw is delivered again later (at least once).
            self._logger.error(
                "outbox_delivery_failed", claimed=outcome.claimed, code=classify(exc).code
            )
            return batch.BatchOutcome()
        return outcome

    async def _prepare(
        self, claimed: Sequence[batch.ClaimedEvent], done: set[tuple[UUID, str]]
    ) -> None:
        """Show pipelining subscribers (the NATS publisher) the events they are about to get."""
        for subscriber in self._subscribers:
            if not isinstance(subscriber, PreparesBatches):
                continue
            events = [
                event.envelope
                for event in claimed
                if (event.envelope.event_id, subscriber.name) not in done
                and subscriber.accepts(event.envelope.event_type)
            ]
            if not events:
                continue
            try:
                async with asyncio.timeout(self._subscriber_timeout):
                    await subscriber.prepare(events)
            except Exception:  # its ``handle`` still runs for each event, and decides
                self._logger.exception(
                    "event_subscriber_prepare_failed", subscriber=subscriber.name
                )

    async def _deliver_event(
        self,
        event: batch.ClaimedEvent,
        done: set[tuple[UUID, str]],
        outcome: batch.BatchOutcome,
    ) -> None:
        envelope = event.envelope
        failures: list[str] = []
        with bound_trace_id(envelope.trace_id):
            for subscriber in self._subscribers:
                key = (envelope.event_id, subscriber.name)
                if key in done or not subscriber.accepts(envelope.event_type):
                    continue
                try:
                    # A context, not wait_for: no task per call on the hot path.
                    async with asyncio.timeout(self._subscriber_timeout):
                        await subscriber.handle(envelope)
                except Exception as exc:  # one subscriber's failure never blocks the others
                    failures.append(f"{subscriber.name}: {type(exc).__name__}")
                    self._logger.exception(
                        "event_subscriber_failed",
                        subscriber=subscriber.name,
                        event_id=str(envelope.event_id),
                        event_type=envelope.event_type,
                    )
                    continue
                outcome.handled.append(key)
        if failures:
            outcome.failed[envelope.event_id] = failures
        else:
            outcome.delivered.append(envelope.event_id)

    def _schedule_retries(
        self, claimed: Sequence[batch.ClaimedEvent], outcome: batch.BatchOutcome, now: datetime
    ) -> dict[UUID, datetime | None]:
        schedule: dict[UUID, datetime | None] = {}
        for event in claimed:
            event_id = event.envelope.event_id
            if event_id not in outcome.failed:
                continue
            attempts = event.attempts + 1
            if attempts >= self._max_attempts:
                self._logger.error(
                    "event_dead_lettered",
                    event_id=str(event_id),
                    event_type=event.envelope.event_type,
                    attempts=attempts,
                    last_error="; ".join(outcome.failed[event_id])[:500],
                )
                schedule[event_id] = None
            else:
                schedule[event_id] = now + self.backoff(attempts)
        return schedule
