"""Bodies of the log-in, refresh and session endpoints (OAuth 2 wire names)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dashtam.application.auth.commands import TokenPair
from dashtam.domain.auth.entities import AuthSession
from dashtam.presentation.api.users.schemas import ABUSE_CAP, CURRENT_PASSWORD_BOUNDS


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    # Declared at most 128 (the policy never accepted longer); a longer one is just wrong: 401.
    password: str = Field(max_length=ABUSE_CAP, json_schema_extra=CURRENT_PASSWORD_BOUNDS)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=512)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )


class SessionResponse(BaseModel):
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, session: AuthSession, *, current_id: UUID) -> SessionResponse:
        return cls(
            id=session.id,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            expires_at=session.expires_at,
            ip_address=session.ip_address,
            user_agent=session.user_agent,
            current=session.id == current_id,
        )


class SessionList(BaseModel):
    items: list[SessionResponse]
