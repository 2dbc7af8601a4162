"""Users table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email, Role
from dashtam.infrastructure.persistence.base import BaseMutableModel


class UserModel(BaseMutableModel):
    """A user row. Not the domain entity: convert with ``to_entity``/``from_entity``."""

    __tablename__ = "users"
    __table_args__ = (
        # The email column holds the canonical form only, so a plain unique index is
        # case-insensitive uniqueness; the CHECK stops a raw INSERT from breaking that.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("role IN ('user', 'admin')", name="role_known"),
    )

    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default=Role.USER.value)
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def to_entity(self) -> User:
        return User(
            id=self.id,
            email=Email(self.email),
            password_hash=self.password_hash,
            role=Role(self.role),
            is_active=self.is_active,
            closed_at=self.closed_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
            version=self.version,
        )

    @classmethod
    def from_entity(cls, user: User) -> UserModel:
        return cls(**cls.values_of(user))

    @staticmethod
    def values_of(user: User) -> dict[str, Any]:
        """The row of ``user`` by column name, for a Core insert."""
        return {
            "id": user.id,
            "email": user.email.value,
            "password_hash": user.password_hash,
            "role": user.role.value,
            "is_active": user.is_active,
            "closed_at": user.closed_at,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
            "version": user.version,
        }

    def apply(self, user: User) -> None:
        """Copy the entity's mutable fields onto this row (``version`` is SQLAlchemy's job)."""
        self.email = user.email.value
        self.password_hash = user.password_hash
        self.role = user.role.value
        self.is_active = user.is_active
        self.closed_at = user.closed_at
