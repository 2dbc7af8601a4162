"""Helpers for webhook tests: a container that may post to loopback, endpoints, events, rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import update

from dashtam.application.webhooks.commands import CreateWebhook, WithSecret
from dashtam.core.clock import utcnow
from dashtam.core.config import Settings
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.events import DomainEvent
from dashtam.domain.providers.events import StatementImported
from dashtam.infrastructure.persistence.models import WebhookDeliveryModel
from tests.api.support import FastContainer, create_user, fetch
from tests.webhook_receiver import Receiver

FAST = {
    "webhooks_allow_private": True,
    "webhook_interval_seconds": 0,  # tests call deliver_due themselves
    "webhook_backoff_seconds": 1.0,
    "webhook_timeout_seconds": 0.5,
    "webhook_max_attempts": 3,
    "webhook_disable_after": 2,
}


def webhook_container(settings: Settings, **overrides: Any) -> FastContainer:
    return FastContainer(settings.model_copy(update={**FAST, **overrides}))


async def register(
    container: FastContainer,
    receiver: Receiver,
    *,
    email: str = "ada@example.com",
    user_id: UUID | None = None,
    events: tuple[str, ...] = ("transactions.updated", "sync.failed"),
) -> tuple[UUID, WithSecret]:
    """A user (new unless given) with an endpoint at ``receiver``, which learns the secret."""
    owner = user_id or await create_user(container, email)
    command = CreateWebhook(
        user_id=owner, url=receiver.url, events=events, description=None, context=AuditContext()
    )
    created = await container.webhooks.handlers().create(command)
    assert isinstance(created, Success), created
    receiver.secret = created.value.secret
    return owner, created.value


def imported(user_id: UUID, *, new: int = 3) -> StatementImported:
    return StatementImported(
        user_id=user_id, connection_id=new_id(), transactions_new=new, transactions_updated=0
    )


async def commit_events(container: FastContainer, *events: DomainEvent) -> None:
    """Commit ``events`` through a real unit of work (the relay then fans them out)."""
    async with container.unit_of_work() as uow:
        for event in events:
            uow.raise_event(event)
        assert isinstance(await uow.commit(), Success)


async def make_due(container: FastContainer) -> None:
    """Every pending delivery due now (a test does not wait out the backoff)."""
    async with container.database.transaction() as session:
        await session.execute(
            update(WebhookDeliveryModel)
            .where(WebhookDeliveryModel.status == "pending")
            .values(next_attempt_at=utcnow())
        )


async def deliveries(container: FastContainer) -> Sequence[WebhookDeliveryModel]:
    return await fetch(container, WebhookDeliveryModel)
