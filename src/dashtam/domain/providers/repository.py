"""Port: a user's provider connections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.providers.entities import ProviderConnection


class ConnectionRepository(Protocol):
    async def add(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]: ...

    async def get(self, connection_id: UUID) -> Result[ProviderConnection | None, Error]: ...

    async def get_owned(
        self, user_id: UUID, connection_id: UUID
    ) -> Result[ProviderConnection | None, Error]:
        """The user's connection; None when it is missing or someone else's (never which)."""
        ...

    async def update(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        """Save the changes; a ``version`` other than the stored one is a ``stale_version``."""
        ...

    async def record_import(self, connection_id: UUID, *, now: datetime) -> Result[None, Error]: ...

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[ProviderConnection], Error]: ...
