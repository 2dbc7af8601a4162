"""User administration: list, change role or active flag, and audit refusals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dashtam.application.admin.commands import MAX_PAGE_SIZE, DenyAdminAccess, ListUsers, UpdateUser
from dashtam.application.failures import record_failure
from dashtam.application.reads import ReadAuditLog, ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthorizationError, ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserUpdatedByAdmin


class DenyAdminAccessHandler:
    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def handle(self, command: DenyAdminAccess) -> Failure[Error]:
        entry = AuditEntry.of(
            command.context,
            action=AuditAction.ADMIN_ACCESS_DENIED,
            outcome=AuditOutcome.DENIED,
            resource_type=ResourceType.USER,
            reason="not_an_admin",
            metadata={"path": command.path[:200]},
        )
        await record_failure(self._uow_factory, None, entry)
        return Failure(AuthorizationError("administrator role required"))


class ListUsersHandler:
    """Administrators reading personal data: a read (no write lock), itself audited."""

    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory, audit_log: ReadAuditLog) -> None:
        self._uow_factory = uow_factory
        self._audit_log = audit_log

    async def handle(self, command: ListUsers) -> Result[Sequence[User], Error]:
        limit = max(1, min(command.limit, MAX_PAGE_SIZE))
        async with self._uow_factory() as uow:
            found = await uow.users.search(command.criteria, after=command.after, limit=limit)
        if isinstance(found, Failure):
            return found
        recorded = await self._audit_log.record(
            AuditEntry.of(
                command.context,
                action=AuditAction.ADMIN_USERS_LISTED,
                outcome=AuditOutcome.SUCCEEDED,
                resource_type=ResourceType.USER,
                metadata={
                    "email_contains": command.criteria.email_contains,
                    "role": command.criteria.role.value if command.criteria.role else None,
                    "is_active": command.criteria.is_active,
                    "returned": len(found.value),
                },
            )
        )
        # No record, no answer: an unaudited read of personal data must not happen.
        return recorded if isinstance(recorded, Failure) else found


class UpdateUserHandler:
    """Changes a user's role or active flag; deactivation ends the user's sessions."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._logger = logger
        self._clock = clock

    async def handle(self, command: UpdateUser) -> Result[User, Error]:
        now = self._clock()
        async with self._uow_factory() as uow:
            if command.context.actor_id == command.user_id:
                error = ConflictError(
                    "administrators cannot change their own role or status",
                    code="self_modification",
                )
                return await self._fail(uow, command, error)
            loaded = await uow.users.get(command.user_id)
            if isinstance(loaded, Failure):
                return await self._fail(uow, command, loaded.error)
            user = loaded.value
            if user is None or user.is_closed:
                return await self._fail(uow, command, NotFoundError("user not found"))
            changes: dict[str, object] = {}
            if command.role is not None and command.role is not user.role:
                changes["role"] = {"from": user.role.value, "to": command.role.value}
                user.role = command.role
            if command.is_active is not None and command.is_active != user.is_active:
                changes["is_active"] = {"from": user.is_active, "to": command.is_active}
                user.is_active = command.is_active
            if not changes:
                return Success(user)
            updated = await uow.users.update(user)
            if isinstance(updated, Failure):
                return await self._fail(uow, command, updated.error)
            if command.is_active is False:
                revoked = await uow.sessions.revoke_all(user.id, reason="deactivated", now=now)
                if isinstance(revoked, Failure):
                    return await self._fail(uow, command, revoked.error)
            actor = command.context.actor_id
            if actor is not None:
                uow.raise_event(
                    UserUpdatedByAdmin(user_id=user.id, updated_by=actor, changes=changes)
                )
            uow.audit(self._entry(command, AuditOutcome.SUCCEEDED, None, changes))
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command, committed.error)
        self._logger.info("admin_user_updated", user_id=str(user.id), changes=list(changes))
        return Success(updated.value)

    async def _fail(self, uow: UnitOfWork, command: UpdateUser, error: Error) -> Failure[Error]:
        await record_failure(
            self._uow_factory, uow, self._entry(command, AuditOutcome.FAILED, error.code, {})
        )
        return Failure(error)

    @staticmethod
    def _entry(
        command: UpdateUser,
        outcome: AuditOutcome,
        reason: str | None,
        changes: dict[str, object],
    ) -> AuditEntry:
        return AuditEntry.of(
            command.context,
            action=AuditAction.ADMIN_USER_UPDATED,
            outcome=outcome,
            resource_type=ResourceType.USER,
            resource_id=command.user_id,
            reason=reason,
            metadata={"changes": changes},
        )
