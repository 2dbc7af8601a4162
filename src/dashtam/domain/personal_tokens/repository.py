"""Port: where personal access tokens are stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.personal_tokens.entities import PersonalAccessToken
from dashtam.domain.users.entities import User


class PersonalTokenRepository(Protocol):
    """Adapters flush, never commit; after a failed write the caller rolls back."""

    async def add(self, token: PersonalAccessToken) -> Result[PersonalAccessToken, Error]: ...

    async def get(self, token_id: UUID) -> Result[PersonalAccessToken | None, Error]: ...

    async def find_with_user(
        self, token_hash: str
    ) -> Result[tuple[PersonalAccessToken, User] | None, Error]:
        """The token with this digest and its owner, read together (every use needs both)."""
        ...

    async def list_for_user(
        self, user_id: UUID, *, after: UUID | None, limit: int
    ) -> Result[Sequence[PersonalAccessToken], Error]:
        """Every token of the user, revoked and expired ones included, newest first;
        ``after``: the last id of the previous page."""
        ...

    async def count_active(self, user_id: UUID, *, now: datetime) -> Result[int, Error]: ...

    async def update(self, token: PersonalAccessToken) -> Result[PersonalAccessToken, Error]:
        """Optimistic: a stale ``version`` is a ``stale_version`` conflict."""
        ...

    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime
    ) -> Result[Sequence[UUID], Error]:
        """Revoke every token of the user not revoked yet; returns the revoked ids."""
        ...

    async def mark_used(self, uses: Mapping[UUID, datetime]) -> Result[None, Error]:
        """Set ``last_used_at`` (token id -> time of its latest use); it never moves back.

        Usage, not a change by anyone: ``version`` and ``updated_at`` stay, so a revocation
        racing a use is never a conflict.
        """
        ...
