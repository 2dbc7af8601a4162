"""The user aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.users.value_objects import Email, Role


@dataclass(slots=True, kw_only=True)
class User:
    """A person who can log in. ``version`` guards against lost updates."""

    id: UUID = field(default_factory=new_id)
    email: Email
    password_hash: str
    role: Role = Role.USER
    is_active: bool = True
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @classmethod
    def register(cls, *, email: Email, password_hash: str, role: Role = Role.USER) -> User:
        return cls(email=email, password_hash=password_hash, role=role)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
