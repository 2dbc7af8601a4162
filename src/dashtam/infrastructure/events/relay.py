"""Outbox relay: delivers committed events to subscribers, at least once, after commit.

Each event is handled in its own short transaction that locks its outbox row
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so any number of relays in any number of
processes can run side by side without delivering one event twice concurrently.
Deliveries are recorded per subscriber: a retry skips the subscribers that already succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.application.events import EventSubscriber
from dashtam.core.clock import utcnow
from dashtam.core.tracing import bound_trace_id
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.outbox import EventDeliveryModel, OutboxEventModel

DEFAULT_MAX_ATTEMPTS = 10


class OutboxRelay:
    """The in-process event bus: subscribers registered here receive every committed event."""

    def __init__(
        self,
        *,
        database: Database,
        logger: LoggerProtocol,
        subscribers: Sequence[EventSubscriber] = (),
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self._database = database
        self._logger = logger
        self._subscribers: list[EventSubscriber] = list(subscribers)
        self._max_attempts = max_attempts

    def subscribe(self, subscriber: EventSubscriber) -> None:
        if any(existing.name == subscriber.name for existing in self._subscribers):
            raise ValueError(f"a subscriber named {subscriber.name!r} is already registered")
        self._subscribers.append(subscriber)

    async def deliver(self, event_ids: Sequence[UUID]) -> int:
        """Deliver these just-committed events now; returns how many were fully delivered.

        Never raises: a failure leaves the event pending for the next ``deliver_pending``.
        """
        delivered = 0
        for event_id in event_ids:
            if await self._deliver_one(event_id):
                delivered += 1
        return delivered

    async def deliver_pending(self, *, batch_size: int = 100) -> int:
        """Deliver undelivered events, oldest first (run at start-up and by the relay loop)."""
        try:
            async with self._database.get_session() as session:
                ids = (
                    await session.scalars(
                        select(OutboxEventModel.id)
                        .where(
                            OutboxEventModel.delivered_at.is_(None),
                            OutboxEventModel.attempts < self._max_attempts,
                        )
                        .order_by(OutboxEventModel.created_at, OutboxEventModel.id)
                        .limit(batch_size)
                    )
                ).all()
        except DB_ERRORS as exc:
            self._logger.error("outbox_scan_failed", code=classify(exc).code)
            return 0
        return await self.deliver(ids)

    async def run(self, *, stop: asyncio.Event, poll_interval: float = 1.0) -> None:
        """Poll and deliver until ``stop`` is set (the ``dashtam events relay`` loop)."""
        while not stop.is_set():
            delivered = await self.deliver_pending()
            if delivered:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_interval)

    async def _deliver_one(self, event_id: UUID) -> bool:
        try:
            async with self._database.transaction() as session:
                row = await self._claim(session, event_id)
                if row is None:
                    return False  # already delivered, or another relay holds it right now
                with bound_trace_id(row.trace_id):
                    return await self._deliver_row(session, row)
        except DB_ERRORS as exc:
            self._logger.error(
                "outbox_delivery_failed", event_id=str(event_id), code=classify(exc).code
            )
            return False

    async def _claim(self, session: AsyncSession, event_id: UUID) -> OutboxEventModel | None:
        query = (
            select(OutboxEventModel)
            .where(OutboxEventModel.id == event_id, OutboxEventModel.delivered_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        row: OutboxEventModel | None = (await session.scalars(query)).one_or_none()
        return row

    async def _deliver_row(self, session: AsyncSession, row: OutboxEventModel) -> bool:
        envelope = row.to_envelope()
        already = set(
            (
                await session.scalars(
                    select(EventDeliveryModel.subscriber).where(
                        EventDeliveryModel.event_id == row.id
                    )
                )
            ).all()
        )
        failures: list[str] = []
        for subscriber in self._subscribers:
            if subscriber.name in already or not subscriber.accepts(envelope.event_type):
                continue
            try:
                await subscriber.handle(envelope)
            except Exception as exc:
                failures.append(f"{subscriber.name}: {type(exc).__name__}")
                self._logger.exception(
                    "event_subscriber_failed",
                    subscriber=subscriber.name,
                    event_id=str(row.id),
                    event_type=row.event_type,
                )
                continue
            session.add(EventDeliveryModel(event_id=row.id, subscriber=subscriber.name))
        row.attempts += 1
        if failures:
            row.last_error = "; ".join(failures)[:500]
            if row.attempts >= self._max_attempts:
                self._logger.error(
                    "event_dead_lettered", event_id=str(row.id), attempts=row.attempts
                )
            return False
        row.delivered_at = utcnow()
        row.last_error = None
        return True
