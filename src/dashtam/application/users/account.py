"""The caller's own account: change the password, close the account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from dashtam.application.auth.throttle import account_key, check_throttle
from dashtam.application.failures import record_failure
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.users.commands import ChangePassword, CloseAccount
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, NotFoundError, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.auth.entities import LoginAttempt, ThrottlePolicy
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserAccountClosed, UserPasswordChanged
from dashtam.domain.users.password_policy import PasswordPolicy


def _stale() -> ConflictError:
    return ConflictError(
        "the account was changed by another request; reload and retry", code="stale_version"
    )


def _wrong_password(field: str) -> ValidationError:
    return ValidationError(
        "the password is not correct", code="invalid_current_password", details={"field": field}
    )


class _PasswordConfirmed:
    """Shared steps: load the caller, respect throttling, check a password off the loop."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        logger: LoggerProtocol,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._logger = logger
        self._throttle = throttle or ThrottlePolicy()
        self._clock = clock

    async def _confirm(
        self,
        *,
        user_id: UUID,
        expected_version: int,
        password: str,
        field: str,
        context: AuditContext,
        action: AuditAction,
        now: datetime,
    ) -> Result[User, Error]:
        async with self._uow_factory() as uow:
            loaded = await uow.users.get(user_id)
            if isinstance(loaded, Failure):
                return await self._fail(uow, context, action, None, loaded.error)
            user = loaded.value
            if user is None or not user.can_log_in:
                return await self._fail(uow, context, action, None, NotFoundError("no such user"))
            if user.version != expected_version:
                # Changed since the caller's request began (e.g. a concurrent password change).
                return await self._fail(uow, context, action, user, _stale())
            key = account_key(user.email.value)
            throttled = await check_throttle(
                uow, self._throttle, key=key, ip_address=context.ip_address, now=now
            )
            if isinstance(throttled, Failure):
                return await self._fail(uow, context, action, user, throttled.error)
        if await self._hasher.verify(user.password_hash, password):
            return Success(user)
        # A wrong password here is a guess with a stolen token: it counts like a failed log-in.
        async with self._uow_factory() as uow:
            await uow.login_attempts.add(
                LoginAttempt(
                    account_key=key, ip_address=context.ip_address, succeeded=False, created_at=now
                )
            )
            entry = _entry(context, action, user, AuditOutcome.FAILED, "wrong_password")
            uow.audit(entry)
            committed = await uow.commit()
            if isinstance(committed, Failure):
                await uow.record_failure(entry)
        return Failure(_wrong_password(field))

    async def _fail(
        self,
        uow: UnitOfWork | None,
        context: AuditContext,
        action: AuditAction,
        user: User | None,
        error: Error,
    ) -> Failure[Error]:
        entry = _entry(context, action, user, AuditOutcome.FAILED, error.code)
        await record_failure(self._uow_factory, uow, entry)
        return Failure(error)


class ChangePasswordHandler(_PasswordConfirmed):
    """Needs the current password; ends every other session; a concurrent change gets 409."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        logger: LoggerProtocol,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(
            uow_factory=uow_factory, hasher=hasher, logger=logger, throttle=throttle, clock=clock
        )
        self._policy = policy

    async def handle(self, command: ChangePassword) -> Result[None, Error]:
        now = self._clock()
        action = AuditAction.USER_PASSWORD_CHANGED
        failed_action = AuditAction.USER_PASSWORD_CHANGE_FAILED
        confirmed = await self._confirm(
            user_id=command.user_id,
            expected_version=command.expected_version,
            password=command.current_password,
            field="current_password",
            context=command.context,
            action=failed_action,
            now=now,
        )
        if isinstance(confirmed, Failure):
            return confirmed
        # Versioned as the caller saw it: a change committed meanwhile makes the update a 409.
        user = confirmed.value
        policy = self._policy.check(command.new_password, email=user.email)
        if isinstance(policy, Failure):
            error = replace(policy.error, details={"field": "new_password"})
            return await self._fail(None, command.context, failed_action, user, error)
        user.password_hash = await self._hasher.hash(command.new_password)

        async with self._uow_factory() as uow:
            updated = await uow.users.update(user)
            if isinstance(updated, Failure):
                return await self._fail(uow, command.context, failed_action, user, updated.error)
            revoked = await uow.sessions.revoke_all(
                user.id, reason="password_changed", now=now, keep=command.session_id
            )
            if isinstance(revoked, Failure):
                return await self._fail(uow, command.context, failed_action, user, revoked.error)
            uow.raise_event(UserPasswordChanged(user_id=user.id))
            uow.audit(
                _entry(
                    command.context,
                    action,
                    user,
                    AuditOutcome.SUCCEEDED,
                    None,
                    {"sessions_revoked": len(revoked.value)},
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command.context, failed_action, user, committed.error)
        self._logger.info("password_changed", user_id=str(user.id))
        return Success(None)


class CloseAccountHandler(_PasswordConfirmed):
    """Closes the caller's account: no more log-ins, personal data removed, audit kept."""

    async def handle(self, command: CloseAccount) -> Result[None, Error]:
        now = self._clock()
        failed_action = AuditAction.USER_ACCOUNT_CLOSE_FAILED
        confirmed = await self._confirm(
            user_id=command.user_id,
            expected_version=command.expected_version,
            password=command.password,
            field="password",
            context=command.context,
            action=failed_action,
            now=now,
        )
        if isinstance(confirmed, Failure):
            return confirmed
        user = confirmed.value
        user.close(now)
        async with self._uow_factory() as uow:
            updated = await uow.users.update(user)
            if isinstance(updated, Failure):
                return await self._fail(uow, command.context, failed_action, user, updated.error)
            revoked = await uow.sessions.revoke_all(user.id, reason="account_closed", now=now)
            if isinstance(revoked, Failure):
                return await self._fail(uow, command.context, failed_action, user, revoked.error)
            uow.raise_event(UserAccountClosed(user_id=user.id))
            uow.audit(
                _entry(
                    command.context,
                    AuditAction.USER_ACCOUNT_CLOSED,
                    user,
                    AuditOutcome.SUCCEEDED,
                    None,
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command.context, failed_action, user, committed.error)
        self._logger.info("account_closed", user_id=str(user.id))
        return Success(None)


def _entry(
    context: AuditContext,
    action: AuditAction,
    user: User | None,
    outcome: AuditOutcome,
    reason: str | None,
    metadata: dict[str, object] | None = None,
) -> AuditEntry:
    return AuditEntry.of(
        context,
        action=action,
        outcome=outcome,
        resource_type=ResourceType.USER,
        resource_id=user.id if user else None,
        actor_id=user.id if user else context.actor_id,
        reason=reason,
        metadata=metadata,
    )
