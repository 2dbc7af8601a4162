"""Port: how the application reaches stored users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Result
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email, Role


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFilter:
    """Administrators' search: every given criterion must match."""

    email_contains: str | None = None
    role: Role | None = None
    is_active: bool | None = None


class UserRepository(Protocol):
    """Stores users. Adapters flush but never commit; the unit of work commits.

    After a write returns ``Failure`` the transaction is unusable: the caller rolls back
    (the unit of work does) before using the repository again.
    """

    async def add(self, user: User) -> Result[User, ConflictError | Error]:
        """Insert a new user; a taken email is a ``ConflictError`` (code ``email_taken``)."""
        ...

    async def update(self, user: User) -> Result[User, NotFoundError | ConflictError | Error]:
        """Persist changes if ``user.version`` is current.

        Returns the stored user: its version is one higher when anything changed, unchanged
        when the entity matched the stored row (no write is sent).
        """
        ...

    async def delete(self, user_id: UUID) -> Result[None, NotFoundError | Error]: ...

    async def get(self, user_id: UUID) -> Result[User | None, Error]: ...

    async def find_by_email(self, email: Email) -> Result[User | None, Error]: ...

    async def search(
        self, criteria: UserFilter, *, after: UUID | None, limit: int
    ) -> Result[Sequence[User], Error]:
        """Users matching ``criteria`` in id (creation) order, starting after ``after``."""
        ...
