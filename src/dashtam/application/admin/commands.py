"""Commands of user administration; ``context.actor_id`` is always the administrator."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.users.repository import UserFilter
from dashtam.domain.users.value_objects import Role

MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ListUsers:
    criteria: UserFilter
    after: UUID | None
    limit: int
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateUser:
    user_id: UUID
    role: Role | None = None
    is_active: bool | None = None
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class DenyAdminAccess:
    """A non-administrator reached an administrative route."""

    path: str
    context: AuditContext
    # "not_an_admin", "mfa_required" (an admin whose session has no second factor), or
    # "personal_token" (a personal access token, never accepted there).
    reason: str = "not_an_admin"
