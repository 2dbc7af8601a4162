"""Managing one's own authenticator: enrol, confirm, disable, new recovery codes, status.

Every change to a factor asks for proof first: the password to start an enrolment or to
remove the factor (ASVS 5.0 7.5.1: re-authentication before changing authentication
factors), a code from the authenticator for the rest. Wrong passwords and codes count toward
the log-in throttle, like any guess made with a stolen token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from dashtam.application.auth.mfa_commands import (
    ConfirmTotp,
    EnrolTotp,
    FactorChanged,
    MfaStatus,
    RegenerateRecoveryCodes,
    TotpEnrolment,
)
from dashtam.application.auth.second_factor import (
    RecoveryCodeCheck,
    TotpCheck,
    invalid_code,
    not_enabled,
    other_sessions,
    totp_context,
)
from dashtam.application.lifecycle import AuditNote, Audits, ReadRunner, UseCaseRunner
from dashtam.application.reads import ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.application.users.account import PasswordConfirmed
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthorizationError, ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.auth.entities import ThrottlePolicy
from dashtam.domain.auth.events import (
    RecoveryCodesRegenerated,
    SecondFactorEnabled,
)
from dashtam.domain.auth.second_factor import TotpFactor
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.protocols.second_factor import TotpAlgorithm

ISSUER = "Dashtam"
# A log-in this recent counts as the re-authentication an enrolment needs (GitHub's "sudo
# mode" works alike); an older session must send the password again.
REAUTHENTICATION_WINDOW = timedelta(minutes=15)


def _already_enabled() -> ConflictError:
    return ConflictError(
        "a second factor is already enabled; disable it first", code="mfa_already_enabled"
    )


class EnrolTotpHandler(PasswordConfirmed):
    """Starts an enrolment: a new secret, sealed; unconfirmed until a code proves the app has it."""

    audits = Audits(
        action=AuditAction.MFA_TOTP_ENROLMENT_STARTED,
        failed_action=AuditAction.MFA_TOTP_ENROLMENT_FAILED,
        resource_type=ResourceType.USER,
    )

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        totp: TotpAlgorithm,
        cipher: CredentialCipher,
        logger: LoggerProtocol,
        issuer: str = ISSUER,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(
            uow_factory=uow_factory, hasher=hasher, logger=logger, throttle=throttle, clock=clock
        )
        self._totp = totp
        self._cipher = cipher
        self._issuer = issuer

    async def handle(self, command: EnrolTotp) -> Result[TotpEnrolment, Error]:
        now = self._clock()
        note = self.audits.note(command.context, actor_id=command.user_id)
        if command.password is None and command.logged_in_at < now - REAUTHENTICATION_WINDOW:
            note.refused(reason="reauthentication_required")
            return await self._runner.refuse(
                note,
                AuthorizationError(
                    "confirm your password to enrol a second factor: send it as 'password' "
                    "(your log-in is older than 15 minutes)",
                    code="reauthentication_required",
                ),
            )
        confirmed = await self._confirm(
            note,
            expected_version=command.expected_version,
            password=command.password,
            field="password",
            now=now,
        )
        if isinstance(confirmed, Failure):
            return confirmed
        if confirmed.value.has_second_factor:
            return await self._runner.refuse(note, _already_enabled())
        user = confirmed.value.user
        secret = self._totp.new_secret()
        sealed = self._cipher.seal(secret, context=totp_context(user.id))

        async def enrol(uow: UnitOfWork) -> Result[None, Error]:
            existing = await uow.second_factors.get_totp(user.id)
            if isinstance(existing, Failure):
                return existing
            factor = existing.value
            if factor is None:
                fresh = TotpFactor(user_id=user.id, sealed_secret=sealed, created_at=now)
                return (await uow.second_factors.add_totp(fresh)).map(lambda _: None)
            if factor.is_confirmed:
                return Failure(_already_enabled())
            # Enrolling again replaces a secret that was never confirmed (a lost QR code).
            factor.sealed_secret, factor.last_used_step = sealed, None
            return (await uow.second_factors.update_totp(factor)).map(lambda _: None)

        enrolled = await self._runner.run(note, enrol)
        if isinstance(enrolled, Failure):
            return enrolled
        uri = self._totp.provisioning_uri(secret, account=user.email.value, issuer=self._issuer)
        self._logger.info("totp_enrolment_started", user_id=str(user.id))
        return Success(
            TotpEnrolment(secret=secret, otpauth_uri=uri, qr_code_svg=self._totp.qr_code_svg(uri))
        )


@dataclass(frozen=True, slots=True)
class _Checked:
    factor: TotpFactor
    step: int


class _CodeConfirmed:
    """Loads the caller's authenticator and checks a code against it, off the write path."""

    audits: Audits

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        totp: TotpCheck,
        recovery_codes: RecoveryCodeCheck,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._totp = totp
        self._recovery_codes = recovery_codes
        self._logger = logger
        self._clock = clock

    async def _check(
        self, note: AuditNote, user_id: UUID, code: str, *, confirmed: bool, now: datetime
    ) -> Result[_Checked, Error]:
        checking = replace(self.audits, action=None).note(
            note.context, resource_id=user_id, actor_id=user_id
        )

        async def check(uow: UnitOfWork) -> Result[_Checked, Error]:
            checking.nothing_changed()  # a read: nothing to commit
            loaded = await uow.second_factors.get_totp(user_id)
            if isinstance(loaded, Failure):
                return loaded
            factor = loaded.value
            if factor is None or factor.is_confirmed != confirmed:
                return Failure(not_enabled() if confirmed else _not_pending())
            return self._totp.step_of(factor, code, now=now).map(lambda s: _Checked(factor, s))

        return await self._runner.run(checking, check)


def _not_pending() -> ConflictError:
    return ConflictError(
        "no authenticator is waiting for confirmation; enrol one first", code="mfa_not_pending"
    )


class ConfirmTotpHandler(_CodeConfirmed):
    """A first code proves the app holds the secret: the factor is on, recovery codes issued."""

    audits = Audits(
        action=AuditAction.MFA_TOTP_ENABLED,
        failed_action=AuditAction.MFA_TOTP_ENABLE_FAILED,
        resource_type=ResourceType.USER,
    )

    async def handle(self, command: ConfirmTotp) -> Result[FactorChanged, Error]:
        now = self._clock()
        user_id = command.user_id
        note = self.audits.note(command.context, resource_id=user_id, actor_id=user_id)
        checked = await self._check(note, user_id, command.code, confirmed=False, now=now)
        if isinstance(checked, Failure):
            return checked
        factor, step = checked.value.factor, checked.value.step
        issued = await self._recovery_codes.issue(user_id, now=now)

        async def enable(uow: UnitOfWork) -> Result[FactorChanged, Error]:
            factor.confirmed_at, factor.last_used_step = now, step
            updated = await uow.second_factors.update_totp(factor)
            if isinstance(updated, Failure):
                return updated
            stored = await uow.second_factors.replace_recovery_codes(user_id, issued.stored)
            if isinstance(stored, Failure):
                return stored
            # This session has just proven the second factor.
            marked = await _mark_second_factor(uow, command.session_id)
            if isinstance(marked, Failure):
                return marked
            uow.raise_event(SecondFactorEnabled(user_id=user_id, method="totp"))
            others = await other_sessions(uow, user_id, command.session_id, now)
            note.on_success(method="totp", other_sessions=others)
            return Success(FactorChanged(recovery_codes=issued.shown, other_sessions=others))

        enabled = await self._runner.run(note, enable)
        if isinstance(enabled, Success):
            self._logger.info("totp_enabled", user_id=str(user_id))
        return enabled


async def _mark_second_factor(uow: UnitOfWork, session_id: UUID) -> Result[None, Error]:
    loaded = await uow.sessions.get(session_id)
    if isinstance(loaded, Failure) or loaded.value is None:
        return loaded.map(lambda _: None)
    session = loaded.value
    session.second_factor = True
    return (await uow.sessions.update(session)).map(lambda _: None)


class RegenerateRecoveryCodesHandler(_CodeConfirmed):
    """Ten new recovery codes for a code from the authenticator; the old ones stop working."""

    audits = Audits(
        action=AuditAction.MFA_RECOVERY_CODES_REGENERATED,
        failed_action=AuditAction.MFA_RECOVERY_CODES_REGENERATE_FAILED,
        resource_type=ResourceType.USER,
    )

    async def handle(self, command: RegenerateRecoveryCodes) -> Result[FactorChanged, Error]:
        now = self._clock()
        user_id = command.user_id
        note = self.audits.note(command.context, resource_id=user_id, actor_id=user_id)
        checked = await self._check(note, user_id, command.code, confirmed=True, now=now)
        if isinstance(checked, Failure):
            return checked
        issued = await self._recovery_codes.issue(user_id, now=now)

        async def regenerate(uow: UnitOfWork) -> Result[FactorChanged, Error]:
            used = await uow.second_factors.use_step(checked.value.factor.id, checked.value.step)
            if isinstance(used, Failure):
                return used
            if not used.value:
                return Failure(invalid_code())
            stored = await uow.second_factors.replace_recovery_codes(user_id, issued.stored)
            if isinstance(stored, Failure):
                return stored
            uow.raise_event(RecoveryCodesRegenerated(user_id=user_id))
            others = await other_sessions(uow, user_id, command.session_id, now)
            return Success(FactorChanged(recovery_codes=issued.shown, other_sessions=others))

        return await self._runner.run(note, regenerate)


class MfaStatusHandler:
    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory) -> None:
        self._runner = ReadRunner(uow_factory)

    async def handle(self, user_id: UUID) -> Result[MfaStatus, Error]:
        async def read(uow: ReadUnitOfWork) -> Result[MfaStatus, Error]:
            loaded = await uow.second_factors.get_totp(user_id)
            if isinstance(loaded, Failure):
                return loaded
            left = await uow.second_factors.unused_recovery_codes(user_id)
            if isinstance(left, Failure):
                return left
            factor = loaded.value
            return Success(
                MfaStatus(
                    totp_enabled=factor is not None and factor.is_confirmed,
                    totp_pending=factor is not None and not factor.is_confirmed,
                    enabled_at=factor.confirmed_at if factor is not None else None,
                    recovery_codes_left=left.value,
                )
            )

        return await self._runner.read(None, read)
