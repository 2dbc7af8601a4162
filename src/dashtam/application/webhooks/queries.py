"""Reads of a user's webhook endpoints and their delivery log.

Not audited as sensitive reads: they show configuration and delivery outcomes, no financial
data; someone else's endpoint is "not found" like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from dashtam.application.lifecycle import ReadRunner, found
from dashtam.application.reads import ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.application.webhooks.commands import MAX_DELIVERY_PAGE
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result
from dashtam.domain.webhooks.entities import WebhookDelivery, WebhookEndpoint


class WebhookQueries:
    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory) -> None:
        self._runner = ReadRunner(uow_factory)

    async def endpoints(self, user_id: UUID) -> Result[Sequence[WebhookEndpoint], Error]:
        return await self._runner.read(None, lambda uow: uow.webhooks.list_for_user(user_id))

    async def endpoint(self, user_id: UUID, endpoint_id: UUID) -> Result[WebhookEndpoint, Error]:
        async def read(uow: ReadUnitOfWork) -> Result[WebhookEndpoint, Error]:
            return found(await uow.webhooks.get_owned(user_id, endpoint_id), "webhook endpoint")

        return await self._runner.read(None, read)

    async def deliveries(
        self, user_id: UUID, endpoint_id: UUID, *, before: UUID | None, limit: int
    ) -> Result[Sequence[WebhookDelivery], Error]:
        """A page of the endpoint's delivery log, newest first."""
        size = max(1, min(limit, MAX_DELIVERY_PAGE))

        async def read(uow: ReadUnitOfWork) -> Result[Sequence[WebhookDelivery], Error]:
            owned = found(await uow.webhooks.get_owned(user_id, endpoint_id), "webhook endpoint")
            if isinstance(owned, Failure):
                return owned
            return await uow.webhooks.deliveries(endpoint_id, before=before, limit=size)

        return await self._runner.read(None, read)
