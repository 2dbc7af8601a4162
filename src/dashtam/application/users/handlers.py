"""Use cases of the user feature."""

from __future__ import annotations

from dashtam.application.failures import record_failure
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.users.commands import AdminDeleteUser, RegisterUser
from dashtam.core.errors import AuthorizationError, ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserDeleted, UserRegistered
from dashtam.domain.users.password_policy import PasswordPolicy
from dashtam.domain.users.value_objects import Email


class RegisterUserHandler:
    """Creates an account: validated email, policy-checked password, argon2id hash."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        logger: LoggerProtocol,
        policy: PasswordPolicy | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._logger = logger
        self._policy = policy or PasswordPolicy()

    async def handle(self, command: RegisterUser) -> Result[User, Error]:
        email_result = Email.parse(command.email)
        if isinstance(email_result, Failure):
            return await self._fail(command, email_result.error, email=None)
        email = email_result.value
        policy = self._policy.check(command.password, email=email)
        if isinstance(policy, Failure):
            return await self._fail(command, policy.error, email=email)

        # Hash before opening the transaction: the slow part must not hold a connection.
        password_hash = await self._hasher.hash(command.password)
        user = User.register(email=email, password_hash=password_hash, role=command.role)

        async with self._uow_factory() as uow:
            existing = await uow.users.find_by_email(email)
            if isinstance(existing, Failure):
                return await self._fail(command, existing.error, email=email, uow=uow)
            if existing.value is not None:
                return await self._fail(command, _email_taken(), email=email, uow=uow)
            added = await uow.users.add(user)
            if isinstance(added, Failure):
                return await self._fail(command, added.error, email=email, uow=uow)
            uow.raise_event(UserRegistered(user_id=user.id, email=email.value))
            uow.audit(
                AuditEntry.of(
                    command.context,
                    action=AuditAction.USER_REGISTERED,
                    outcome=AuditOutcome.SUCCEEDED,
                    resource_type=ResourceType.USER,
                    resource_id=user.id,
                    actor_id=user.id,
                    metadata={"email": email.value, "role": user.role.value},
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(command, committed.error, email=email, uow=uow)
        self._logger.info("user_registered", user_id=str(user.id))
        return Success(added.value)

    async def _fail(
        self,
        command: RegisterUser,
        error: Error,
        *,
        email: Email | None,
        uow: UnitOfWork | None = None,
    ) -> Failure[Error]:
        entry = AuditEntry.of(
            command.context,
            action=AuditAction.USER_REGISTRATION_FAILED,
            outcome=AuditOutcome.FAILED,
            resource_type=ResourceType.USER,
            reason=error.code,
            metadata={"email": email.value} if email is not None else {},
        )
        await record_failure(self._uow_factory, uow, entry)
        self._logger.info("user_registration_failed", reason=error.code)
        return Failure(error)


class AdminDeleteUserHandler:
    """An administrator removes a user; audited as ``ADMIN_USER_DELETED``."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory, logger: LoggerProtocol) -> None:
        self._uow_factory = uow_factory
        self._logger = logger

    async def handle(self, command: AdminDeleteUser) -> Result[None, Error]:
        context = command.context
        async with self._uow_factory() as uow:
            actor = await uow.users.get(context.actor_id) if context.actor_id is not None else None
            if actor is not None and isinstance(actor, Failure):
                return await self._fail(uow, command, actor.error, AuditOutcome.FAILED)
            if (
                actor is None
                or actor.value is None
                or not actor.value.is_admin
                or not actor.value.is_active
            ):
                error = AuthorizationError("only administrators may delete users")
                return await self._fail(uow, command, error, AuditOutcome.DENIED)
            if actor.value.id == command.user_id:
                conflict = ConflictError(
                    "administrators cannot delete their own account here", code="self_deletion"
                )
                return await self._fail(uow, command, conflict, AuditOutcome.FAILED)

            target = await uow.users.get(command.user_id)
            if isinstance(target, Failure):
                return await self._fail(uow, command, target.error, AuditOutcome.FAILED)
            if target.value is None:
                return await self._fail(
                    uow, command, NotFoundError("user not found"), AuditOutcome.FAILED
                )
            deleted = await uow.users.delete(command.user_id)
            if isinstance(deleted, Failure):
                return await self._fail(uow, command, deleted.error, AuditOutcome.FAILED)
            uow.raise_event(UserDeleted(user_id=command.user_id, deleted_by=actor.value.id))
            uow.audit(
                AuditEntry.of(
                    context,
                    action=AuditAction.ADMIN_USER_DELETED,
                    outcome=AuditOutcome.SUCCEEDED,
                    resource_type=ResourceType.USER,
                    resource_id=command.user_id,
                    metadata={"deleted_email": target.value.email.value},
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command, committed.error, AuditOutcome.FAILED)
        self._logger.info(
            "admin_user_deleted", user_id=str(command.user_id), admin_id=str(actor.value.id)
        )
        return Success(None)

    async def _fail(
        self, uow: UnitOfWork, command: AdminDeleteUser, error: Error, outcome: AuditOutcome
    ) -> Failure[Error]:
        entry = AuditEntry.of(
            command.context,
            action=AuditAction.ADMIN_USER_DELETED,
            outcome=outcome,
            resource_type=ResourceType.USER,
            resource_id=command.user_id,
            reason=error.code,
        )
        await uow.record_failure(entry)
        self._logger.info("admin_user_delete_failed", reason=error.code)
        return Failure(error)


def _email_taken() -> ConflictError:
    return ConflictError("an account with this email already exists", code="email_taken")
