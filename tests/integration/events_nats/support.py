"""Committing events through the real unit of work, and reading the outbox back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from dashtam.core.clock import utcnow
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


class Recorder:
    """An in-process subscriber: what it received, in order."""

    name = "recorder"

    def __init__(self) -> None:
        self.received: list[UUID] = []

    def accepts(self, event_type: str) -> bool:
        return True

    async def handle(self, event: EventEnvelope) -> None:
        self.received.append(event.event_id)


async def commit_registrations(
    database: Database, count: int, *, relay: OutboxRelay | None = None, tag: str = "u"
) -> list[UUID]:
    """``count`` users registered, one transaction each; their events' ids in commit order."""
    hook: Callable[[Sequence[UUID]], Awaitable[object]] | None = (
        relay.deliver if relay is not None else None
    )
    ids = []
    for index in range(count):
        uow = SqlUnitOfWork(
            database=database,
            logger=get_logger("test"),
            signer=signer_for_tests(),
            on_committed=hook,
        )
        async with uow:
            email = f"{tag}{index}-{UUID(int=index).hex[:6]}@example.com"
            user = User(email=Email(email), password_hash="hash")
            assert isinstance(await uow.users.add(user), Success)
            event = UserRegistered(user_id=user.id, email=email)
            uow.raise_event(event)
            assert isinstance(await uow.commit(), Success)
        ids.append(event.event_id)
    return ids


async def outbox_rows(database: Database, ids: Sequence[UUID]) -> list[OutboxEventModel]:
    async with database.get_session() as session:
        rows = (
            await session.scalars(select(OutboxEventModel).where(OutboxEventModel.id.in_(ids)))
        ).all()
    by_id = {row.id: row for row in rows}
    return [by_id[event_id] for event_id in ids]


async def subscribers_done(database: Database, event_id: UUID) -> set[str]:
    async with database.get_session() as session:
        rows = await session.scalars(
            select(EventDeliveryModel.subscriber).where(EventDeliveryModel.event_id == event_id)
        )
        return set(rows)


def strs(ids: Sequence[UUID]) -> list[str]:
    return [str(event_id) for event_id in ids]


async def insert_events(database: Database, payloads: Sequence[dict[str, object]]) -> list[UUID]:
    """Outbox rows written directly (any payload), oldest first, in one transaction."""
    start = utcnow()
    rows = [
        OutboxEventModel(
            event_type="UserPasswordChanged",
            occurred_at=start,
            payload=dict(payload),
            attempts=0,
            created_at=start + timedelta(milliseconds=index),
        )
        for index, payload in enumerate(payloads)
    ]
    async with database.transaction() as session:
        session.add_all(rows)
    return [row.id for row in rows]
