"""Ports: where sessions, refresh tokens and log-in attempts are stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.domain.users.entities import User


class SessionRepository(Protocol):
    """Adapters flush, never commit; after a failed write the caller rolls back."""

    async def add(self, session: AuthSession) -> Result[AuthSession, Error]: ...

    async def get(self, session_id: UUID) -> Result[AuthSession | None, Error]: ...

    async def get_with_user(
        self, session_id: UUID
    ) -> Result[tuple[AuthSession, User] | None, Error]:
        """The session and the user it belongs to, read together (every request needs both)."""
        ...

    async def update(self, session: AuthSession) -> Result[AuthSession, Error]: ...

    async def list_active(
        self, user_id: UUID, *, now: datetime
    ) -> Result[Sequence[AuthSession], Error]:
        """Sessions not revoked and not expired, newest first."""
        ...

    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime, keep: UUID | None = None
    ) -> Result[Sequence[UUID], Error]:
        """Revoke every active session of the user (but ``keep``); returns the revoked ids."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> Result[RefreshToken, Error]: ...

    async def find_by_hash(self, token_hash: str) -> Result[RefreshToken | None, Error]: ...

    async def mark_rotated(self, token_id: UUID, *, now: datetime) -> Result[bool, Error]:
        """Mark a token used; False when it already was (a concurrent use won the race)."""
        ...


class LoginAttemptRepository(Protocol):
    async def lock_account(self, account_key: str) -> Result[None, Error]:
        """Serialise attempts on one account until the transaction ends (check, then count)."""
        ...

    async def add(self, attempt: LoginAttempt) -> Result[None, Error]: ...

    async def remove(self, attempt_id: UUID) -> Result[None, Error]:
        """Drop an attempt counted in advance once it turned out to succeed."""
        ...

    async def account_failures(
        self, account_key: str, *, since: datetime
    ) -> Result[list[datetime], Error]:
        """Times of failures since ``since`` that came after the account's last success."""
        ...

    async def ip_failures(
        self, ip_address: str, *, since: datetime
    ) -> Result[list[datetime], Error]: ...
