"""Use cases of the user feature."""

from __future__ import annotations

from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner, found
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.users.commands import AdminDeleteUser, RegisterUser
from dashtam.core.errors import AuthorizationError, ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserDeleted, UserRegistered
from dashtam.domain.users.password_policy import PasswordPolicy
from dashtam.domain.users.value_objects import Email


class RegisterUserHandler:
    """Creates an account: validated email, policy-checked password, argon2id hash."""

    audits = Audits(
        action=AuditAction.USER_REGISTERED,
        failed_action=AuditAction.USER_REGISTRATION_FAILED,
        resource_type=ResourceType.USER,
        failure_event="user_registration_failed",
    )

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        logger: LoggerProtocol,
        policy: PasswordPolicy | None = None,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._hasher = hasher
        self._logger = logger
        self._policy = policy or PasswordPolicy()

    async def handle(self, command: RegisterUser) -> Result[User, Error]:
        note = self.audits.note(command.context)
        match Email.parse(command.email):
            case Failure(error):
                return await self._runner.refuse(note, error)
            case Success(email):
                note.metadata["email"] = email.value
        policy = self._policy.check(command.password, email=email)
        if isinstance(policy, Failure):
            return await self._runner.refuse(note, policy.error)
        # Hash before opening the transaction: the slow part must not hold a connection.
        password_hash = await self._hasher.hash(command.password)
        user = User.register(email=email, password_hash=password_hash, role=command.role)

        async def register(uow: UnitOfWork) -> Result[User, Error]:
            existing = await uow.users.find_by_email(email)
            if isinstance(existing, Failure):
                return existing
            if existing.value is not None:
                return Failure(
                    ConflictError("an account with this email already exists", code="email_taken")
                )
            added = await uow.users.add(user)
            if isinstance(added, Success):
                uow.raise_event(UserRegistered(user_id=user.id, email=email.value))
                note.on_success(
                    resource=(ResourceType.USER, user.id), actor_id=user.id, role=user.role.value
                )
            return added

        registered = await self._runner.run(note, register)
        if isinstance(registered, Success):
            self._logger.info("user_registered", user_id=str(user.id))
        return registered


class AdminDeleteUserHandler:
    """An administrator removes a user; audited as ``ADMIN_USER_DELETED``."""

    audits = Audits(
        action=AuditAction.ADMIN_USER_DELETED,
        resource_type=ResourceType.USER,
        failure_event="admin_user_delete_failed",
    )

    def __init__(self, *, uow_factory: UnitOfWorkFactory, logger: LoggerProtocol) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._logger = logger

    async def handle(self, command: AdminDeleteUser) -> Result[None, Error]:
        note = self.audits.note(command.context, resource_id=command.user_id)
        deleted = await self._runner.run(note, lambda uow: self._delete(uow, command, note))
        if isinstance(deleted, Success):
            self._logger.info(
                "admin_user_deleted",
                user_id=str(command.user_id),
                admin_id=str(command.context.actor_id),
            )
        return deleted

    @staticmethod
    async def _delete(
        uow: UnitOfWork, command: AdminDeleteUser, note: AuditNote
    ) -> Result[None, Error]:
        actor_id = command.context.actor_id
        actor = await uow.users.get(actor_id) if actor_id is not None else Success(None)
        if isinstance(actor, Failure):
            return actor
        admin = actor.value
        if admin is None or not admin.is_admin or not admin.is_active:
            note.refused()
            return Failure(AuthorizationError("only administrators may delete users"))
        if admin.id == command.user_id:
            return Failure(
                ConflictError(
                    "administrators cannot delete their own account here", code="self_deletion"
                )
            )
        target = found(await uow.users.get(command.user_id), "user")
        if isinstance(target, Failure):
            return target
        deleted = await uow.users.delete(command.user_id)
        if isinstance(deleted, Success):
            uow.raise_event(UserDeleted(user_id=command.user_id, deleted_by=admin.id))
            note.on_success(deleted_email=target.value.email.value)
        return deleted
