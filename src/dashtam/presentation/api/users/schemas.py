"""Request and response bodies of the users API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH_WITH_SECOND_FACTOR,
)

# The document declares the policy's bounds (what the API accepts), but pydantic enforces only
# an abuse cap: a password out of bounds must reach the policy, whose 422 codes
# (password_too_short / password_too_long) are a documented contract.
ABUSE_CAP = 4096
# A new account has no second factor yet: its password is the only factor.
FIRST_PASSWORD_BOUNDS: JsonDict = {
    "minLength": MIN_PASSWORD_LENGTH,
    "maxLength": MAX_PASSWORD_LENGTH,
}
# A changed password may be as short as 8 when the account has a second factor.
NEW_PASSWORD_BOUNDS: JsonDict = {
    "minLength": MIN_PASSWORD_LENGTH_WITH_SECOND_FACTOR,
    "maxLength": MAX_PASSWORD_LENGTH,
}
# A current password was accepted by the policy once, so it is never longer than its maximum.
CURRENT_PASSWORD_BOUNDS: JsonDict = {"maxLength": MAX_PASSWORD_LENGTH}


class RegisterUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(
        max_length=ABUSE_CAP,
        json_schema_extra=FIRST_PASSWORD_BOUNDS,
        examples=["correct horse battery staple"],
    )


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

    current_password: str = Field(max_length=ABUSE_CAP, json_schema_extra=CURRENT_PASSWORD_BOUNDS)
    new_password: str = Field(max_length=ABUSE_CAP, json_schema_extra=NEW_PASSWORD_BOUNDS)


class CloseAccountRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=ABUSE_CAP, json_schema_extra=CURRENT_PASSWORD_BOUNDS)
