"""Bodies of the log-in, refresh and session endpoints (OAuth 2 wire names)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dashtam.application.auth.commands import MfaRequired, TokenPair
from dashtam.domain.auth.entities import AuthSession
from dashtam.presentation.api.users.schemas import ABUSE_CAP, CURRENT_PASSWORD_BOUNDS


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    # Declared at most 128 (the policy never accepted longer); a longer one is just wrong: 401.
    password: str = Field(max_length=ABUSE_CAP, json_schema_extra=CURRENT_PASSWORD_BOUNDS)
    remember_me: bool = Field(
        default=False,
        description="A long-lived session (30 days, 7 days idle) instead of 24 hours (1 hour idle)",
    )


class MfaLoginRequest(BaseModel):
    """The second step of a log-in: the ticket and a TOTP code, or one recovery code."""

    model_config = ConfigDict(extra="forbid")

    mfa_ticket: str = Field(min_length=1, max_length=512)
    code: str | None = Field(default=None, max_length=16, examples=["123456"])
    recovery_code: str | None = Field(default=None, max_length=64, examples=["abcd-efgh-jkmn-pqrs"])

    @model_validator(mode="after")
    def _one_proof(self) -> MfaLoginRequest:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send either 'code' or 'recovery_code'")
        return self


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


class LoginResponse(TokenResponse):
    password_change_recommended: bool = Field(
        description="The password no longer meets the policy (NIST SP 800-63B-4): it still "
        "works, but should be changed"
    )

    @classmethod
    def of(cls, pair: TokenPair) -> LoginResponse:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            password_change_recommended=pair.password_change_recommended,
        )


class MfaRequiredResponse(BaseModel):
    """The password was right; ``POST /sessions/mfa`` with the ticket and a code completes it."""

    mfa_required: Literal[True] = True
    mfa_ticket: str
    expires_in: int
    methods: list[Literal["totp", "recovery_code"]] = ["totp", "recovery_code"]

    @classmethod
    def of(cls, required: MfaRequired) -> MfaRequiredResponse:
        return cls(mfa_ticket=required.mfa_ticket, expires_in=required.expires_in)


class OtherSessionsRevoked(BaseModel):
    revoked: int


class SessionResponse(BaseModel):
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None
    remember_me: bool
    second_factor: bool
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
            remember_me=session.remember_me,
            second_factor=session.second_factor,
            current=session.id == current_id,
        )


class SessionList(BaseModel):
    items: list[SessionResponse]
