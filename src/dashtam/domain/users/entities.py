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
    closed_at: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @classmethod
    def register(cls, *, email: Email, password_hash: str, role: Role = Role.USER) -> User:
        return cls(email=email, password_hash=password_hash, role=role)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def can_log_in(self) -> bool:
        return self.is_active and not self.is_closed

    def close(self, now: datetime) -> None:
        """Close the account: it can never log in again and keeps no personal data.

        The row stays (audit records and foreign keys point at its id); the email becomes a
        placeholder that cannot receive mail and the password hash one that never verifies.
        """
        self.email = Email(f"closed-{self.id.hex}@closed.invalid")
        self.password_hash = CLOSED_PASSWORD_HASH
        self.is_active = False
        self.role = Role.USER
        self.closed_at = now


# Not an argon2 string: no password can ever verify against it.
CLOSED_PASSWORD_HASH = "!closed"  # noqa: S105 - a sentinel, not a secret
