"""The second step of a two-step log-in: a ticket and a TOTP code (or a recovery code).

Counted like a password: the attempt is counted as a failure and committed under the
account's lock before the code is checked, the check runs outside any transaction, and a
success turns the count into a success. A code is accepted once (its time step is recorded);
a ticket is used once and dies after a few wrong codes or five minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from dashtam.application.auth.commands import CompleteMfaLogIn, TokenPair
from dashtam.application.auth.opening import SessionOpener
from dashtam.application.auth.second_factor import RecoveryCodeCheck, TotpCheck
from dashtam.application.auth.throttle import account_key, check_throttle
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.auth.entities import LoginAttempt, SessionPolicy, ThrottlePolicy
from dashtam.domain.auth.events import RecoveryCodeUsed, UserLoggedIn, UserLoginFailed
from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.second_factor import MfaSecrets
from dashtam.domain.protocols.tokens import TokenService
from dashtam.domain.users.entities import User

_MFA_LOGIN = Audits(
    action=AuditAction.USER_LOGIN_SUCCEEDED,
    failed_action=AuditAction.MFA_CHALLENGE_FAILED,
    resource_type=ResourceType.USER,
    failure_event="mfa_login_failed",
)
_COUNTING = replace(_MFA_LOGIN, action=None, failure_event=None)

_REFUSALS = {
    "unknown_ticket": ("the MFA ticket is not valid; log in again", "invalid_mfa_ticket"),
    "ticket_ended": ("the MFA ticket has expired or was used; log in again", "mfa_ticket_expired"),
    "wrong_code": ("the code is not valid", "invalid_mfa_code"),
    "code_replayed": ("this code was already used; wait for the next one", "mfa_code_reused"),
    "recovery_code_reused": ("this recovery code was already used", "recovery_code_used"),
}


def refusal(reason: str) -> AuthenticationError:
    message, code = _REFUSALS[reason]
    return AuthenticationError(message, code=code)


@dataclass(frozen=True, slots=True)
class _Pending:
    challenge: MfaChallenge
    user: User
    factor: TotpFactor
    attempt: LoginAttempt
    recovery_code: RecoveryCode | None


@dataclass(frozen=True, slots=True)
class _Proof:
    step: int | None = None
    recovery_code: RecoveryCode | None = None


class CompleteMfaLoginHandler:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenService,
        totp: TotpCheck,
        mfa_secrets: MfaSecrets,
        recovery_codes: RecoveryCodeCheck,
        logger: LoggerProtocol,
        session_policy: SessionPolicy | None = None,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._opener = SessionOpener(tokens=tokens, policy=session_policy or SessionPolicy())
        self._totp = totp
        self._mfa_secrets = mfa_secrets
        self._recovery_codes = recovery_codes
        self._logger = logger
        self._throttle = throttle or ThrottlePolicy()
        self._clock = clock

    async def handle(self, command: CompleteMfaLogIn) -> Result[TokenPair, Error]:
        now = self._clock()
        failing = _COUNTING.note(command.context)
        method = "recovery_code" if command.recovery_code is not None else "totp"
        failing.metadata["second_factor"] = method
        pending = await self._runner.run(
            failing, lambda uow: self._count(uow, command, failing, now)
        )
        if isinstance(pending, Failure):
            return pending
        proof = await self._prove(command, pending.value, now)
        if isinstance(proof, str):
            return await self._rejected(failing, pending.value, proof)
        return await self._complete(command, pending.value, proof, now)

    async def _count(
        self, uow: UnitOfWork, command: CompleteMfaLogIn, failing: AuditNote, now: datetime
    ) -> Result[_Pending, Error]:
        """Step 1, committed on its own: the ticket checked, the attempt counted as a failure."""
        found = await uow.mfa_challenges.find_by_hash(
            self._mfa_secrets.ticket_digest(command.mfa_ticket)
        )
        if isinstance(found, Failure):
            return found
        challenge = found.value
        if challenge is None:
            failing.failed_because("unknown_ticket")
            return Failure(refusal("unknown_ticket"))
        failing.resource_id = failing.actor_id = challenge.user_id
        loaded = await uow.users.get(challenge.user_id)
        if isinstance(loaded, Failure):
            return loaded
        user = loaded.value
        if user is None or not user.can_log_in:
            failing.failed_because("account_disabled")
            return Failure(refusal("unknown_ticket"))
        key = account_key(user.email.value)
        locked = await uow.login_attempts.lock_account(key)
        if isinstance(locked, Failure):
            return locked
        throttled = await check_throttle(
            uow, self._throttle, key=key, ip_address=command.context.ip_address, now=now
        )
        if isinstance(throttled, Failure):
            return throttled
        if not challenge.is_open(now):
            failing.failed_because("ticket_ended")
            return Failure(refusal("ticket_ended"))
        loaded_factor = await uow.second_factors.get_totp(user.id)
        if isinstance(loaded_factor, Failure):
            return loaded_factor
        factor = loaded_factor.value
        if factor is None or not factor.is_confirmed:
            # Reset by an administrator (or disabled) since the password step.
            failing.failed_because("factor_removed")
            return Failure(refusal("ticket_ended"))
        recovery_code: RecoveryCode | None = None
        if command.recovery_code is not None:
            parsed = self._mfa_secrets.parse_recovery_code(command.recovery_code)
            if parsed is not None:
                looked_up = await uow.second_factors.find_recovery_code(user.id, parsed[0])
                if isinstance(looked_up, Failure):
                    return looked_up
                recovery_code = looked_up.value
        attempt = LoginAttempt(
            account_key=key, ip_address=command.context.ip_address, succeeded=False, created_at=now
        )
        # Fail closed: an attempt that cannot be counted is not checked either.
        counted = await uow.login_attempts.add(attempt)
        return counted.map(lambda _: _Pending(challenge, user, factor, attempt, recovery_code))

    async def _prove(
        self, command: CompleteMfaLogIn, pending: _Pending, now: datetime
    ) -> _Proof | str:
        """Step 2, outside any transaction: the proof, or the reason it is refused."""
        if command.recovery_code is not None:
            if not await self._recovery_codes.verify(pending.recovery_code, command.recovery_code):
                return "wrong_code"
            code = pending.recovery_code
            if code is None or code.used_at is not None:
                return "recovery_code_reused"
            return _Proof(recovery_code=code)
        match self._totp.step_of(pending.factor, command.code or "", now=now):
            case Success(step):
                return _Proof(step=step)
            case Failure(error) if error.code == "mfa_code_reused":
                return "code_replayed"
            case Failure(error):
                if error.code != "invalid_mfa_code":  # the secret did not open: say so in the log
                    self._logger.error("totp_secret_unreadable", user_id=str(pending.user.id))
                return "wrong_code"
        raise AssertionError("unreachable: a Result is a Success or a Failure")

    async def _rejected(self, failing: AuditNote, pending: _Pending, reason: str) -> Failure[Error]:
        async def reject(uow: UnitOfWork) -> Result[TokenPair, Error]:
            counted = await uow.mfa_challenges.count_failure(pending.challenge.id)
            if isinstance(counted, Failure):
                return counted
            uow.raise_event(UserLoginFailed(user_id=pending.user.id, reason=reason))
            failing.keep_failure()
            failing.failed_because(reason)
            return Failure(refusal(reason))

        rejected = await self._runner.run(failing, reject)
        assert isinstance(rejected, Failure)
        return rejected

    async def _complete(
        self, command: CompleteMfaLogIn, pending: _Pending, proof: _Proof, now: datetime
    ) -> Result[TokenPair, Error]:
        user, challenge = pending.user, pending.challenge
        opening = self._opener.prepare(
            user_id=user.id,
            context=command.context,
            remember_me=challenge.remember_me,
            second_factor=True,
            now=now,
        )
        session = opening.session
        note = _MFA_LOGIN.note(command.context, resource_id=user.id, actor_id=user.id)
        note.metadata["second_factor"] = "recovery_code" if proof.recovery_code else "totp"
        note.on_success(resource=(ResourceType.SESSION, session.id))

        async def complete(uow: UnitOfWork) -> Result[None, Error]:
            # Each of these is a conditional UPDATE: a concurrent request with the same code,
            # recovery code or ticket finds it taken, and this one fails.
            if proof.recovery_code is not None:
                used = await self._use_recovery_code(uow, note, user, proof.recovery_code, now)
            else:
                used = await uow.second_factors.use_step(pending.factor.id, proof.step or 0)
                if isinstance(used, Success) and not used.value:
                    note.failed_because("code_replayed")
                    return Failure(refusal("code_replayed"))
            if isinstance(used, Failure):
                return used
            completed = await uow.mfa_challenges.complete(challenge.id, now=now)
            if isinstance(completed, Failure):
                return completed
            if not completed.value:
                note.failed_because("ticket_ended")
                return Failure(refusal("ticket_ended"))
            written = await self._opener.write(uow, opening, counted=pending.attempt, now=now)
            if isinstance(written, Failure):
                return written
            uow.raise_event(UserLoggedIn(user_id=user.id, session_id=session.id))
            return Success(None)

        opened = await self._runner.run(note, complete)
        if isinstance(opened, Failure):
            return opened
        self._logger.info("user_logged_in", user_id=str(user.id), session_id=str(session.id))
        return Success(
            self._opener.pair(
                opening, now, password_change_recommended=challenge.password_change_recommended
            )
        )

    async def _use_recovery_code(
        self, uow: UnitOfWork, note: AuditNote, user: User, code: RecoveryCode, now: datetime
    ) -> Result[bool, Error]:
        used = await uow.second_factors.use_recovery_code(code.id, now=now)
        if isinstance(used, Failure):
            return used
        if not used.value:
            note.failed_because("recovery_code_reused")
            return Failure(refusal("recovery_code_reused"))
        remaining = await uow.second_factors.unused_recovery_codes(user.id)
        if isinstance(remaining, Failure):
            return remaining
        # Its own record beside the log-in's: a used recovery code is worth finding on its own.
        uow.audit(
            AuditEntry.of(
                note.context,
                action=AuditAction.MFA_RECOVERY_CODE_USED,
                outcome=AuditOutcome.SUCCEEDED,
                resource_type=ResourceType.USER,
                resource_id=user.id,
                actor_id=user.id,
                metadata={"recovery_codes_left": remaining.value},
            )
        )
        uow.raise_event(RecoveryCodeUsed(user_id=user.id, remaining=remaining.value))
        note.on_success(recovery_codes_left=remaining.value)
        return Success(True)
