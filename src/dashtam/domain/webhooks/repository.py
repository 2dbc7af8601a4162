"""Port: webhook endpoints and their delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.webhooks.entities import NewDelivery, WebhookDelivery, WebhookEndpoint


class WebhookRepository(Protocol):
    """Endpoints are always read through their owner: someone else's is "not found"."""

    async def add(self, endpoint: WebhookEndpoint) -> Result[WebhookEndpoint, Error]: ...

    async def get_owned(
        self, user_id: UUID, endpoint_id: UUID
    ) -> Result[WebhookEndpoint | None, Error]: ...

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[WebhookEndpoint], Error]: ...

    async def count_for_user(self, user_id: UUID) -> Result[int, Error]: ...

    async def update(self, endpoint: WebhookEndpoint) -> Result[WebhookEndpoint, Error]:
        """Optimistic: a stale ``version`` is a ``stale_version`` conflict."""
        ...

    async def delete(self, endpoint_id: UUID) -> Result[None, Error]:
        """The endpoint and its delivery log."""
        ...

    async def sealed_secrets(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[tuple[UUID, str]], Error]:
        """Every endpoint's id and sealed secret, in id order, a page at a time (rotation)."""
        ...

    async def store_secret(self, endpoint_id: UUID, sealed: str) -> Result[None, Error]:
        """Replace the sealed secret (unversioned: re-sealing keeps the secret itself)."""
        ...

    async def queue(self, delivery: NewDelivery) -> Result[bool, Error]:
        """Queue a delivery; False when this endpoint already has one for this event."""
        ...

    async def deliveries(
        self, endpoint_id: UUID, *, before: UUID | None, limit: int
    ) -> Result[Sequence[WebhookDelivery], Error]:
        """Newest first; ``before``: the last id of the previous page."""
        ...
