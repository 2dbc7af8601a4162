"""Removing one's authenticator: the password and a code (or a recovery code).

Without the factor the password is the only one left, so it must meet the single-factor policy
(15 characters) first; wrong passwords and codes count toward the log-in throttle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from dashtam.application.auth.mfa_commands import DisableTotp, FactorChanged
from dashtam.application.auth.second_factor import (
    RecoveryCodeCheck,
    TotpCheck,
    invalid_code,
    not_enabled,
    other_sessions,
)
from dashtam.application.lifecycle import Audits
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.users.account import PasswordConfirmed
from dashtam.core.clock import utcnow
from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.auth.entities import ThrottlePolicy
from dashtam.domain.auth.events import SecondFactorDisabled
from dashtam.domain.auth.second_factor import RecoveryCode, TotpFactor
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.protocols.second_factor import MfaSecrets
from dashtam.domain.users.password_policy import PasswordPolicy


class DisableTotpHandler(PasswordConfirmed):
    """Removes the factor for the password and a code (or a recovery code)."""

    audits = Audits(
        action=AuditAction.MFA_TOTP_DISABLED,
        failed_action=AuditAction.MFA_TOTP_DISABLE_FAILED,
        resource_type=ResourceType.USER,
    )

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        totp: TotpCheck,
        recovery_codes: RecoveryCodeCheck,
        mfa_secrets: MfaSecrets,
        logger: LoggerProtocol,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(
            uow_factory=uow_factory, hasher=hasher, logger=logger, throttle=throttle, clock=clock
        )
        self._policy = policy
        self._totp = totp
        self._recovery_codes = recovery_codes
        self._mfa_secrets = mfa_secrets

    async def handle(self, command: DisableTotp) -> Result[FactorChanged, Error]:
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
        user, factor = confirmed.value.user, confirmed.value.factor
        if factor is None or not factor.is_confirmed:
            return await self._runner.refuse(note, not_enabled())
        # Without the second factor the password is the only one: it must meet that policy.
        alone = self._policy.check(command.password, email=user.email, second_factor=False)
        if isinstance(alone, Failure):
            return await self._runner.refuse(
                note,
                ValidationError(
                    "change your password to one of at least 15 characters before removing "
                    "the second factor (a password alone must meet that policy)",
                    code="password_change_required",
                    details={"field": "password", "policy": alone.error.code},
                ),
            )
        checking = replace(self.audits, action=None).note(
            note.context, resource_id=user.id, actor_id=user.id
        )
        proof = await self._prove(command, factor, now)
        if isinstance(proof, Failure):
            return await self.count_guess(
                checking, user, now, reason=proof.error.code, error=proof.error
            )

        async def disable(uow: UnitOfWork) -> Result[FactorChanged, Error]:
            if isinstance(proof.value, RecoveryCode):
                used = await uow.second_factors.use_recovery_code(proof.value.id, now=now)
            else:
                used = await uow.second_factors.use_step(factor.id, proof.value)
            if isinstance(used, Failure):
                return used
            if not used.value:
                return Failure(invalid_code())
            removed = await uow.second_factors.remove_all(user.id)
            if isinstance(removed, Failure):
                return removed
            uow.raise_event(SecondFactorDisabled(user_id=user.id, by_admin=False))
            others = await other_sessions(uow, user.id, command.session_id, now)
            note.on_success(other_sessions=others)
            return Success(FactorChanged(other_sessions=others))

        disabled = await self._runner.run(note, disable)
        if isinstance(disabled, Success):
            self._logger.info("totp_disabled", user_id=str(user.id))
        return disabled

    async def _prove(
        self, command: DisableTotp, factor: TotpFactor, now: datetime
    ) -> Result[int | RecoveryCode, Error]:
        if command.recovery_code is None:
            return self._totp.step_of(factor, command.code or "", now=now)
        parsed = self._mfa_secrets.parse_recovery_code(command.recovery_code)
        code: RecoveryCode | None = None
        if parsed is not None:

            async def find(uow: UnitOfWork) -> Result[RecoveryCode | None, Error]:
                return await uow.second_factors.find_recovery_code(factor.user_id, parsed[0])

            looking = replace(self.audits, action=None).note(
                command.context, actor_id=factor.user_id
            )
            looking.nothing_changed()
            found = await self._runner.run(looking, find)
            if isinstance(found, Failure):
                return found
            code = found.value
        if not await self._recovery_codes.verify(code, command.recovery_code):
            return Failure(invalid_code())
        if code is None or code.used_at is not None:
            return Failure(
                ValidationError(
                    "this recovery code was already used",
                    code="recovery_code_used",
                    details={"field": "recovery_code"},
                )
            )
        return Success(code)
