"""The caller's own account: change the password, close the account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from dashtam.application.auth.throttle import account_key, check_throttle
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.users.commands import ChangePassword, CloseAccount
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, NotFoundError, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.auth.entities import LoginAttempt, ThrottlePolicy
from dashtam.domain.auth.second_factor import TotpFactor
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


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The caller, once their password is confirmed, and their authenticator if any."""

    user: User
    factor: TotpFactor | None

    @property
    def has_second_factor(self) -> bool:
        return self.factor is not None and self.factor.is_confirmed


class PasswordConfirmed:
    """Shared steps: load the caller, respect throttling, check a password off the loop."""

    audits: Audits

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        logger: LoggerProtocol,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._hasher = hasher
        self._logger = logger
        self._throttle = throttle or ThrottlePolicy()
        self._clock = clock

    async def _confirm(
        self,
        note: AuditNote,
        *,
        expected_version: int,
        password: str | None,
        field: str,
        now: datetime,
    ) -> Result[Confirmed, Error]:
        """The caller as loaded, once ``password`` is confirmed as theirs; failures recorded.

        ``password=None``: the caller proved it moments ago (a fresh log-in); only loaded.
        """
        user_id = note.actor_id
        checking = replace(self.audits, action=None).note(note.context, actor_id=user_id)

        async def load(uow: UnitOfWork) -> Result[Confirmed, Error]:
            checking.nothing_changed()  # a read: nothing to commit
            loaded = await uow.users.get(user_id) if user_id is not None else Success(None)
            if isinstance(loaded, Failure):
                return loaded
            user = loaded.value
            if user is None or not user.can_log_in:
                return Failure(NotFoundError("no such user"))
            checking.resource_id = note.resource_id = user.id
            if user.version != expected_version:
                # Changed since the caller's request began (e.g. a concurrent password change).
                return Failure(_stale())
            throttled = await check_throttle(
                uow,
                self._throttle,
                key=account_key(user.email.value),
                ip_address=checking.context.ip_address,
                now=now,
            )
            if isinstance(throttled, Failure):
                return throttled
            factor = await uow.second_factors.get_totp(user.id)
            return factor.map(lambda found: Confirmed(user, found))

        loaded = await self._runner.run(checking, load)
        if isinstance(loaded, Failure) or password is None:
            return loaded
        if await self._hasher.verify(loaded.value.user.password_hash, password):
            return loaded
        user = loaded.value.user

        return await self.count_guess(
            checking, user, now, reason="wrong_password", error=_wrong_password(field)
        )

    async def count_guess(
        self, checking: AuditNote, user: User, now: datetime, *, reason: str, error: Error
    ) -> Failure[Error]:
        """A wrong secret from a logged-in caller is a guess with a stolen token: it counts
        like a failed log-in, and the count is kept with the failure record."""

        async def count(uow: UnitOfWork) -> Result[None, Error]:
            added = await uow.login_attempts.add(
                LoginAttempt(
                    account_key=account_key(user.email.value),
                    ip_address=checking.context.ip_address,
                    succeeded=False,
                    created_at=now,
                )
            )
            if isinstance(added, Failure):
                return added
            checking.keep_failure()
            checking.failed_because(reason)
            return Failure(error)

        counted = await self._runner.run(checking, count)
        assert isinstance(counted, Failure)
        return counted


class ChangePasswordHandler(PasswordConfirmed):
    """Needs the current password; ends every other session; a concurrent change gets 409."""

    audits = Audits(
        action=AuditAction.USER_PASSWORD_CHANGED,
        failed_action=AuditAction.USER_PASSWORD_CHANGE_FAILED,
        resource_type=ResourceType.USER,
    )

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
        note = self.audits.note(command.context, actor_id=command.user_id)
        confirmed = await self._confirm(
            note,
            expected_version=command.expected_version,
            password=command.current_password,
            field="current_password",
            now=now,
        )
        if isinstance(confirmed, Failure):
            return confirmed
        # Versioned as the caller saw it: a change committed meanwhile makes the update a 409.
        user = confirmed.value.user
        policy = self._policy.check(
            command.new_password,
            email=user.email,
            second_factor=confirmed.value.has_second_factor,
        )
        if isinstance(policy, Failure):
            error = replace(policy.error, details={**policy.error.details, "field": "new_password"})
            return await self._runner.refuse(note, error)
        user.password_hash = await self._hasher.hash(command.new_password)

        async def change(uow: UnitOfWork) -> Result[None, Error]:
            updated = await uow.users.update(user)
            if isinstance(updated, Failure):
                return updated
            revoked = await uow.sessions.revoke_all(
                user.id, reason="password_changed", now=now, keep=command.session_id
            )
            if isinstance(revoked, Failure):
                return revoked
            uow.raise_event(UserPasswordChanged(user_id=user.id))
            note.on_success(sessions_revoked=len(revoked.value))
            return Success(None)

        changed = await self._runner.run(note, change)
        if isinstance(changed, Success):
            self._logger.info("password_changed", user_id=str(user.id))
        return changed


class CloseAccountHandler(PasswordConfirmed):
    """Closes the caller's account: no more log-ins, personal data removed, audit kept."""

    audits = Audits(
        action=AuditAction.USER_ACCOUNT_CLOSED,
        failed_action=AuditAction.USER_ACCOUNT_CLOSE_FAILED,
        resource_type=ResourceType.USER,
    )

    async def handle(self, command: CloseAccount) -> Result[None, Error]:
        now = self._clock()
        note = self.audits.note(command.context, actor_id=command.user_id)
        confirmed = await self._confirm(
            note,
            expected_version=command.expected_version,
            password=command.password,
            field="password",
            now=now,
        )
        if isinstance(confirmed, Failure):
            return confirmed
        user = confirmed.value.user
        user.close(now)

        async def close(uow: UnitOfWork) -> Result[None, Error]:
            updated = await uow.users.update(user)
            if isinstance(updated, Failure):
                return updated
            revoked = await uow.sessions.revoke_all(user.id, reason="account_closed", now=now)
            if isinstance(revoked, Failure):
                return revoked
            # A closed account keeps no personal data: its authenticator secret goes too.
            removed = await uow.second_factors.remove_all(user.id)
            if isinstance(removed, Failure):
                return removed
            tokens = await uow.personal_tokens.revoke_all(user.id, reason="account_closed", now=now)
            if isinstance(tokens, Success):
                uow.raise_event(UserAccountClosed(user_id=user.id))
            return tokens.map(lambda _: None)

        closed = await self._runner.run(note, close)
        if isinstance(closed, Success):
            self._logger.info("account_closed", user_id=str(user.id))
        return closed
