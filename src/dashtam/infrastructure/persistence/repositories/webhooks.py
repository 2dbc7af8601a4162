"""SQLAlchemy adapter of the ``WebhookRepository`` port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.webhooks.entities import (
    DeliveryStatus,
    EndpointStatus,
    NewDelivery,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.webhooks import (
    WebhookDeliveryModel,
    WebhookEndpointModel,
)
from dashtam.infrastructure.persistence.repositories.dialect import insert_for

_STALE = ConflictError(
    "the webhook endpoint was changed meanwhile; reload and retry", code="stale_version"
)


_KNOWN_EVENTS = frozenset(t.value for t in WebhookEventType)


def endpoint_of(model: WebhookEndpointModel) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=model.id,
        user_id=model.user_id,
        url=model.url,
        description=model.description,
        # A type no longer offered is dropped, not a crash of every read.
        events=tuple(WebhookEventType(e) for e in model.events if e in _KNOWN_EVENTS),
        sealed_secret=model.secret,
        status=EndpointStatus(model.status),
        disabled_reason=model.disabled_reason,
        consecutive_failures=model.consecutive_failures,
        created_at=model.created_at,
        updated_at=model.updated_at,
        version=model.version,
    )


def _apply(model: WebhookEndpointModel, endpoint: WebhookEndpoint) -> None:
    model.url = endpoint.url
    model.description = endpoint.description
    model.events = [e.value for e in endpoint.events]
    model.secret = endpoint.sealed_secret
    model.status = endpoint.status.value
    model.disabled_reason = endpoint.disabled_reason
    model.consecutive_failures = endpoint.consecutive_failures


def delivery_of(model: WebhookDeliveryModel) -> WebhookDelivery:
    return WebhookDelivery(
        id=model.id,
        endpoint_id=model.endpoint_id,
        event_id=model.event_id,
        event_type=model.event_type,
        status=DeliveryStatus(model.status),
        attempts=model.attempts,
        created_at=model.created_at,
        next_attempt_at=model.next_attempt_at,
        last_attempt_at=model.last_attempt_at,
        last_status_code=model.last_status_code,
        last_error=model.last_error,
        delivered_at=model.delivered_at,
    )


def queue_statement(session: AsyncSession, deliveries: Sequence[NewDelivery]) -> Any:
    """One INSERT of pending deliveries; an (endpoint, event) already queued is skipped, which
    makes a redelivered event harmless."""
    insert = insert_for(session)
    return (
        insert(WebhookDeliveryModel)
        .values(
            [
                {
                    "endpoint_id": d.endpoint_id,
                    "event_id": d.event_id,
                    "event_type": d.event_type,
                    "payload": d.payload,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": d.due_at,
                }
                for d in deliveries
            ]
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
    )


class SqlWebhookRepository:
    """Flushes so that constraint errors surface here, typed; never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add(self, endpoint: WebhookEndpoint) -> Result[WebhookEndpoint, Error]:
        model = WebhookEndpointModel(id=endpoint.id, user_id=endpoint.user_id)
        _apply(model, endpoint)
        self._session.add(model)
        await self._session.flush()
        return Success(endpoint_of(model))

    @classified
    async def get_owned(
        self, user_id: UUID, endpoint_id: UUID
    ) -> Result[WebhookEndpoint | None, Error]:
        # One query for both conditions: "someone else's" and "missing" look the same.
        model = (
            await self._session.scalars(
                select(WebhookEndpointModel).where(
                    WebhookEndpointModel.id == endpoint_id,
                    WebhookEndpointModel.user_id == user_id,
                )
            )
        ).one_or_none()
        return Success(endpoint_of(model) if model is not None else None)

    @classified
    async def list_for_user(self, user_id: UUID) -> Result[Sequence[WebhookEndpoint], Error]:
        query = (
            select(WebhookEndpointModel)
            .where(WebhookEndpointModel.user_id == user_id)
            .order_by(WebhookEndpointModel.id)
        )
        return Success([endpoint_of(m) for m in (await self._session.scalars(query)).all()])

    @classified
    async def count_for_user(self, user_id: UUID) -> Result[int, Error]:
        query = select(func.count()).where(WebhookEndpointModel.user_id == user_id)
        return Success(int(await self._session.scalar(query) or 0))

    @classified(stale_version=_STALE)
    async def update(self, endpoint: WebhookEndpoint) -> Result[WebhookEndpoint, Error]:
        model = await self._session.get(WebhookEndpointModel, endpoint.id)
        if model is None:
            return Failure(NotFoundError("webhook endpoint not found"))
        if model.version != endpoint.version:
            return Failure(_STALE)
        _apply(model, endpoint)
        await self._session.flush()
        return Success(endpoint_of(model))

    @classified
    async def delete(self, endpoint_id: UUID) -> Result[None, Error]:
        # Its delivery log goes with it (ON DELETE CASCADE, enforced on both databases).
        await self._session.execute(
            delete(WebhookEndpointModel).where(WebhookEndpointModel.id == endpoint_id)
        )
        return Success(None)

    @classified
    async def queue(self, delivery: NewDelivery) -> Result[bool, Error]:
        result = await self._session.execute(queue_statement(self._session, [delivery]))
        return Success(bool(getattr(result, "rowcount", 0)))

    @classified
    async def deliveries(
        self, endpoint_id: UUID, *, before: UUID | None, limit: int
    ) -> Result[Sequence[WebhookDelivery], Error]:
        query = (
            select(WebhookDeliveryModel)
            .where(WebhookDeliveryModel.endpoint_id == endpoint_id)
            .order_by(WebhookDeliveryModel.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(WebhookDeliveryModel.id < before)
        return Success([delivery_of(m) for m in (await self._session.scalars(query)).all()])

    @classified
    async def sealed_secrets(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[tuple[UUID, str]], Error]:
        query = select(WebhookEndpointModel.id, WebhookEndpointModel.secret)
        if after is not None:
            query = query.where(WebhookEndpointModel.id > after)
        rows = (
            await self._session.execute(query.order_by(WebhookEndpointModel.id).limit(limit))
        ).all()
        return Success([(row.id, row.secret) for row in rows])

    @classified
    async def store_secret(self, endpoint_id: UUID, sealed: str) -> Result[None, Error]:
        await self._session.execute(
            update(WebhookEndpointModel)
            .where(WebhookEndpointModel.id == endpoint_id)
            .values(secret=sealed)
            .execution_options(synchronize_session=False)
        )
        return Success(None)
