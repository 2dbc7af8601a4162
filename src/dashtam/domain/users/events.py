"""Events raised by the user aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from dashtam.domain.events.base import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRegistered(DomainEvent):
    user_id: UUID
    email: str

    event_type: ClassVar[str] = "UserRegistered"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserPasswordChanged(DomainEvent):
    user_id: UUID

    event_type: ClassVar[str] = "UserPasswordChanged"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeleted(DomainEvent):
    user_id: UUID
    deleted_by: UUID | None

    event_type: ClassVar[str] = "UserDeleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserAccountClosed(DomainEvent):
    user_id: UUID

    event_type: ClassVar[str] = "UserAccountClosed"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserUpdatedByAdmin(DomainEvent):
    user_id: UUID
    updated_by: UUID
    changes: dict[str, object]

    event_type: ClassVar[str] = "UserUpdatedByAdmin"
