"""Commands of the user feature: what a caller asks for, plus where the request came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.users.value_objects import Role


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterUser:
    email: str
    password: str = field(repr=False)
    role: Role = Role.USER
    context: AuditContext = field(default_factory=AuditContext)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdminDeleteUser:
    """``context.actor_id`` is the administrator asking."""

    user_id: UUID
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePassword:
    """``user_id``/``session_id`` identify the caller; other sessions are ended."""

    user_id: UUID
    session_id: UUID
    current_password: str = field(repr=False)
    new_password: str = field(repr=False)
    expected_version: int
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseAccount:
    user_id: UUID
    password: str = field(repr=False)
    expected_version: int
    context: AuditContext
