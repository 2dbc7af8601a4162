"""Request and response bodies of the users API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dashtam.domain.users.entities import User


class RegisterUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, examples=["ada@example.com"])
    # Length limits are the domain's (12..128, reported as a problem); this only caps abuse.
    password: str = Field(max_length=4096, examples=["correct horse battery staple"])


class UserResponse(BaseModel):
    id: UUID
    email: str
    role: str
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            id=user.id,
            email=user.email.value,
            role=user.role.value,
            is_active=user.is_active,
            created_at=user.created_at,
        )


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class CloseAccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=4096)
