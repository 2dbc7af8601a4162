"""Bodies of the administration endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from dashtam.domain.users.value_objects import Role
from dashtam.presentation.api.users.schemas import UserResponse


class UpdateUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateUserRequest:
        if self.role is None and self.is_active is None:
            raise ValueError("give role and/or is_active")
        return self


class UserPage(BaseModel):
    items: list[UserResponse]
    next_cursor: str | None
