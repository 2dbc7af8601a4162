"""User administration: list, change role or active flag, and audit refusals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dashtam.application.admin.commands import MAX_PAGE_SIZE, DenyAdminAccess, ListUsers, UpdateUser
from dashtam.application.auth.mfa_commands import ResetMfa
from dashtam.application.lifecycle import AuditNote, Audits, ReadRunner, UseCaseRunner, found
from dashtam.application.reads import ReadAuditLog, ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import (
    AuthorizationError,
    ConflictError,
    Error,
    InsufficientScopeError,
    NotFoundError,
)
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.auth.events import SecondFactorDisabled
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserUpdatedByAdmin


class DenyAdminAccessHandler:
    audits = Audits(action=AuditAction.ADMIN_ACCESS_DENIED, resource_type=ResourceType.USER)

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._runner = UseCaseRunner(uow_factory)

    async def handle(self, command: DenyAdminAccess) -> Failure[Error]:
        note = self.audits.note(command.context, path=command.path[:200])
        note.refused(reason=command.reason)
        if command.reason == "personal_token":
            error: AuthorizationError = InsufficientScopeError(
                "a personal access token cannot be used here; sign in with a password",
                code="personal_token_not_allowed",
            )
        elif command.reason == "mfa_required":
            error = AuthorizationError(
                "administrators must log in with a second factor: enrol one under "
                "/api/v1/users/me/mfa/totp, then log in again",
                code="mfa_required",
            )
        else:
            error = AuthorizationError("administrator role required")
        return await self._runner.refuse(note, error)


class ResetMfaHandler:
    """An administrator removes a user's second factor (a lost device); audited."""

    audits = Audits(action=AuditAction.ADMIN_MFA_RESET, resource_type=ResourceType.USER)

    def __init__(self, *, uow_factory: UnitOfWorkFactory, logger: LoggerProtocol) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._logger = logger

    async def handle(self, command: ResetMfa) -> Result[None, Error]:
        note = self.audits.note(command.context, resource_id=command.user_id)

        async def reset(uow: UnitOfWork) -> Result[None, Error]:
            user = found(await uow.users.get(command.user_id), "user")
            if isinstance(user, Failure):
                return user
            removed = await uow.second_factors.remove_all(command.user_id)
            if isinstance(removed, Failure):
                return removed
            if not removed.value:
                return Failure(
                    ConflictError("the user has no second factor", code="mfa_not_enabled")
                )
            uow.raise_event(SecondFactorDisabled(user_id=command.user_id, by_admin=True))
            return Success(None)

        reset_done = await self._runner.run(note, reset)
        if isinstance(reset_done, Success):
            self._logger.info("mfa_reset_by_admin", user_id=str(command.user_id))
        return reset_done


class ListUsersHandler:
    """Administrators reading personal data: a read (no write lock), itself audited."""

    audits = Audits(action=AuditAction.ADMIN_USERS_LISTED, resource_type=ResourceType.USER)

    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory, audit_log: ReadAuditLog) -> None:
        self._runner = ReadRunner(uow_factory, audit_log=audit_log)

    async def handle(self, command: ListUsers) -> Result[Sequence[User], Error]:
        limit = max(1, min(command.limit, MAX_PAGE_SIZE))
        criteria = command.criteria
        note = self.audits.note(
            command.context,
            email_contains=criteria.email_contains,
            role=criteria.role.value if criteria.role else None,
            is_active=criteria.is_active,
        )

        async def search(uow: ReadUnitOfWork) -> Result[Sequence[User], Error]:
            users = await uow.users.search(criteria, after=command.after, limit=limit)
            if isinstance(users, Success):
                note.on_success(returned=len(users.value))
            return users

        # No record, no answer: an unaudited read of personal data must not happen.
        return await self._runner.read(note, search)


class UpdateUserHandler:
    """Changes a user's role or active flag; deactivation ends the user's sessions."""

    audits = Audits(action=AuditAction.ADMIN_USER_UPDATED, resource_type=ResourceType.USER)

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._logger = logger
        self._clock = clock

    async def handle(self, command: UpdateUser) -> Result[User, Error]:
        note = self.audits.note(command.context, resource_id=command.user_id, changes={})
        if command.context.actor_id == command.user_id:
            error = ConflictError(
                "administrators cannot change their own role or status", code="self_modification"
            )
            return await self._runner.refuse(note, error)
        result = await self._runner.run(note, lambda uow: self._update(uow, command, note))
        changes = note.success_metadata.get("changes")
        if isinstance(result, Success) and isinstance(changes, dict):
            self._logger.info(
                "admin_user_updated", user_id=str(command.user_id), changes=list(changes)
            )
        return result

    async def _update(
        self, uow: UnitOfWork, command: UpdateUser, note: AuditNote
    ) -> Result[User, Error]:
        loaded = found(await uow.users.get(command.user_id), "user")
        if isinstance(loaded, Failure):
            return loaded
        user = loaded.value
        if user.is_closed:
            return Failure(NotFoundError("user not found"))
        changes: dict[str, object] = {}
        if command.role is not None and command.role is not user.role:
            changes["role"] = {"from": user.role.value, "to": command.role.value}
            user.role = command.role
        if command.is_active is not None and command.is_active != user.is_active:
            changes["is_active"] = {"from": user.is_active, "to": command.is_active}
            user.is_active = command.is_active
        if not changes:
            note.nothing_changed()
            return Success(user)
        updated = await uow.users.update(user)
        if isinstance(updated, Failure):
            return updated
        if command.is_active is False:
            now = self._clock()
            revoked = await uow.sessions.revoke_all(user.id, reason="deactivated", now=now)
            if isinstance(revoked, Failure):
                return revoked
            tokens = await uow.personal_tokens.revoke_all(user.id, reason="deactivated", now=now)
            if isinstance(tokens, Failure):
                return tokens
        if command.context.actor_id is not None:
            uow.raise_event(
                UserUpdatedByAdmin(
                    user_id=user.id, updated_by=command.context.actor_id, changes=changes
                )
            )
        note.on_success(changes=changes)
        return updated
