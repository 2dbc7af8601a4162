"""The statements of one delivery batch: claim rows, read past deliveries, record the outcome.

A batch is one transaction. The claim locks its rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises writers), so concurrent relays
take disjoint batches instead of fighting over the same ids. Recording is two or three
statements whatever the batch size: one multi-row INSERT of deliveries, one UPDATE of the
delivered rows, and (only when something failed) one executemany UPDATE of the failed rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.domain.events import EventEnvelope
from dashtam.infrastructure.persistence.models.outbox import EventDeliveryModel, OutboxEventModel

_outbox = OutboxEventModel
_deliveries = EventDeliveryModel.metadata.tables[EventDeliveryModel.__tablename__]

# The session of the batch whose subscribers are running. A subscriber that writes (the
# webhook fan-out) writes in it: its rows commit with the batch's delivery records or not at
# all, and on SQLite a transaction of its own would wait for this one's write lock.
_serving: ContextVar[AsyncSession | None] = ContextVar("dashtam_batch_session", default=None)


@contextmanager
def serving(session: AsyncSession) -> Iterator[None]:
    """Subscribers called in this block find the batch's session with ``batch_session()``."""
    token = _serving.set(session)
    try:
        yield
    finally:
        _serving.reset(token)


def batch_session() -> AsyncSession | None:
    """The session of the batch being delivered (None outside a relay's batch)."""
    return _serving.get()


# Built once: every write use case delivers its events through these (its own ids), and
# building a statement costs about as much CPU as running it.
_DUE = (
    select(
        _outbox.id,
        _outbox.event_type,
        _outbox.occurred_at,
        _outbox.payload,
        _outbox.trace_id,
        _outbox.attempts,
    )
    .where(
        _outbox.delivered_at.is_(None),
        _outbox.attempts < bindparam("max_attempts"),
        or_(_outbox.next_attempt_at.is_(None), _outbox.next_attempt_at <= bindparam("now")),
    )
    .order_by(_outbox.created_at, _outbox.id)
    .limit(bindparam("limit"))
    # Rows another relay holds are skipped, not waited for: it is delivering them.
    .with_for_update(skip_locked=True)
)
_DUE_OF = _DUE.where(_outbox.id.in_(bindparam("event_ids", expanding=True)))
_RECORD_DELIVERIES = insert(_deliveries)
_MARK_DELIVERED = (
    update(_outbox)
    .where(_outbox.id.in_(bindparam("event_ids", expanding=True)))
    .values(
        delivered_at=bindparam("now"),
        attempts=_outbox.attempts + 1,
        last_error=None,
        next_attempt_at=None,
    )
    .execution_options(synchronize_session=False)
)


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    """An outbox row locked by this batch, with the attempts made before this one."""

    envelope: EventEnvelope
    attempts: int


@dataclass(slots=True)
class BatchOutcome:
    """What a batch did: every claimed event ends delivered or failed (with its reasons)."""

    claimed: int = 0
    delivered: list[UUID] = field(default_factory=list)
    handled: list[tuple[UUID, str]] = field(default_factory=list)  # (event, subscriber) done now
    failed: dict[UUID, list[str]] = field(default_factory=dict)


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    max_attempts: int,
    limit: int,
    event_ids: Sequence[UUID] | None = None,
) -> list[ClaimedEvent]:
    """Lock up to ``limit`` due events (these ids, or the oldest pending), oldest first."""
    parameters: dict[str, object] = {"max_attempts": max_attempts, "now": now, "limit": limit}
    query = _DUE
    if event_ids is not None:
        query, parameters["event_ids"] = _DUE_OF, list(event_ids)
    rows = (await session.execute(query, parameters)).all()
    return [
        ClaimedEvent(
            envelope=EventEnvelope(
                event_id=row.id,
                event_type=row.event_type,
                occurred_at=row.occurred_at,
                payload=dict(row.payload),
                trace_id=row.trace_id,
            ),
            attempts=row.attempts,
        )
        for row in rows
    ]


async def past_deliveries(
    session: AsyncSession, claimed: Sequence[ClaimedEvent]
) -> set[tuple[UUID, str]]:
    """(event, subscriber) pairs already handled by earlier attempts of these events."""
    # Deliveries are recorded in the transaction that counts the attempt: a first attempt
    # has none, so the common case costs no query.
    retried = [event.envelope.event_id for event in claimed if event.attempts > 0]
    if not retried:
        return set()
    query = select(EventDeliveryModel.event_id, EventDeliveryModel.subscriber).where(
        EventDeliveryModel.event_id.in_(retried)
    )
    return {(row.event_id, row.subscriber) for row in (await session.execute(query)).all()}


async def record(
    session: AsyncSession,
    *,
    outcome: BatchOutcome,
    attempts: dict[UUID, int],
    now: datetime,
    next_attempt: dict[UUID, datetime | None],
) -> None:
    """Mark the batch's events delivered or due again later; for one due again, record the
    subscribers that did take it, so that its retry skips them.

    A delivered event is never retried, so its subscribers are not recorded: a row per
    subscriber per event was a third to a half of the rows a batch wrote.
    """
    partial = [(event_id, name) for event_id, name in outcome.handled if event_id in outcome.failed]
    if partial:
        # The table, not the ORM entity: a plain multi-row INSERT without per-row ORM work.
        await session.execute(
            _RECORD_DELIVERIES,
            [{"event_id": event_id, "subscriber": name} for event_id, name in partial],
        )
    if outcome.delivered:
        await session.execute(_MARK_DELIVERED, {"event_ids": outcome.delivered, "now": now})
    if outcome.failed:
        await session.execute(
            update(_outbox).execution_options(synchronize_session=False),
            [
                {
                    "id": event_id,
                    "attempts": attempts[event_id] + 1,
                    "last_error": "; ".join(reasons)[:500],
                    "next_attempt_at": next_attempt[event_id],
                }
                for event_id, reasons in outcome.failed.items()
            ],
        )
