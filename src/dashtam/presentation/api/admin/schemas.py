"""Bodies of the administration endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, field_validator, model_validator

from dashtam.domain.users.value_objects import Role
from dashtam.presentation.api.users.schemas import UserResponse


def _omit_or_give(schema: dict[str, Any]) -> None:
    """The document says what the API does: each field may be left out, never sent as null."""
    for field in schema.get("properties", {}).values():
        choices = field.pop("anyOf", None)
        if choices:
            field.update(next(choice for choice in choices if choice.get("type") != "null"))
        field.pop("default", None)
    schema["minProperties"] = 1


class UpdateUserRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_omit_or_give)

    role: Role | None = None
    # Strict: 0/1 or "true" would be guessed into a change of someone's access.
    is_active: StrictBool | None = None

    @field_validator("role", "is_active", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out instead of sending null")
        return value

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateUserRequest:
        if self.role is None and self.is_active is None:
            raise ValueError("give role and/or is_active")
        return self


class UserPage(BaseModel):
    items: list[UserResponse]
    next_cursor: str | None
