"""Port: issuing and checking tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import AuthenticationError
from dashtam.core.result import Result


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID
    token_id: UUID
    issued_at: datetime
    expires_at: datetime


class TokenService(Protocol):
    @property
    def access_token_ttl(self) -> timedelta: ...

    @property
    def refresh_token_ttl(self) -> timedelta: ...

    def issue_access_token(self, *, user_id: UUID, session_id: UUID, now: datetime) -> str: ...

    def verify_access_token(
        self, token: str, *, now: datetime
    ) -> Result[AccessClaims, AuthenticationError]: ...

    def new_refresh_token(self) -> str:
        """An unguessable opaque token (shown to the client once, stored only hashed)."""
        ...

    def hash_refresh_token(self, token: str) -> str: ...
