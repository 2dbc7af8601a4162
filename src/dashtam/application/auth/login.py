"""Log in and refresh: issue a session, rotate its refresh tokens, detect token theft."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from dashtam.application.auth.commands import (
    LogIn,
    LoginOutcome,
    MfaRequired,
    RefreshTokens,
    TokenPair,
)
from dashtam.application.auth.opening import SessionOpener, token_pair
from dashtam.application.auth.throttle import account_key, check_throttle
from dashtam.application.auth.timing import DummyPasswordCheck
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.auth.entities import (
    AuthSession,
    LoginAttempt,
    RefreshToken,
    SessionPolicy,
    ThrottlePolicy,
)
from dashtam.domain.auth.events import RefreshTokenReuseDetected, UserLoggedIn, UserLoginFailed
from dashtam.domain.auth.second_factor import MFA_TICKET_LIFETIME, MfaChallenge
from dashtam.domain.protocols.identifiers import IdentifierDigest
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.protocols.second_factor import MfaSecrets
from dashtam.domain.protocols.tokens import TokenService
from dashtam.domain.users.entities import User
from dashtam.domain.users.password_policy import PasswordPolicy
from dashtam.domain.users.value_objects import Email

INVALID_CREDENTIALS = "invalid email or password"


def _bad_credentials() -> AuthenticationError:
    # One message and code for every reason: the caller never learns whether the email exists.
    return AuthenticationError(INVALID_CREDENTIALS, code="invalid_credentials")


def _bad_refresh() -> AuthenticationError:
    return AuthenticationError("the refresh token is not valid", code="invalid_refresh_token")


_LOGIN = Audits(
    action=AuditAction.USER_LOGIN_SUCCEEDED,
    failed_action=AuditAction.USER_LOGIN_FAILED,
    resource_type=ResourceType.USER,
    failure_event="user_login_failed",
)
# Counting the attempt is a step: its success is told by the log-in's own record.
_COUNTING = replace(_LOGIN, action=None, failure_event=None)
_PASSWORD_VERIFIED = replace(_LOGIN, action=AuditAction.USER_LOGIN_SECOND_FACTOR_REQUIRED)


@dataclass(frozen=True, slots=True)
class _Counted:
    user: User | None
    has_second_factor: bool


class LoginHandler:
    """Log-in, in three explicit steps: count the attempt, check the password, open a session.

    The attempt is counted as failed and committed *before* the password is checked, under
    the account's lock: a burst of parallel guesses cannot slip past the limit. The slow hash
    check runs outside any transaction, as slowly for every outcome. A success removes the
    provisional failure and records a success, which resets the count. An account with a
    second factor gets a ticket instead of a session: the count is reset only once the second
    factor is proven too, so a known password does not buy unlimited code guesses.
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenService,
        dummy_check: DummyPasswordCheck,
        identifier_digest: IdentifierDigest,
        logger: LoggerProtocol,
        mfa_secrets: MfaSecrets,
        password_policy: PasswordPolicy | None = None,
        session_policy: SessionPolicy | None = None,
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._hasher = hasher
        self._opener = SessionOpener(tokens=tokens, policy=session_policy or SessionPolicy())
        self._dummy_check = dummy_check
        self._identifier_digest = identifier_digest
        self._logger = logger
        self._mfa_secrets = mfa_secrets
        self._password_policy = password_policy or PasswordPolicy()
        self._throttle = throttle or ThrottlePolicy()
        self._clock = clock

    async def handle(self, command: LogIn) -> Result[LoginOutcome, Error]:
        now = self._clock()
        attempt = LoginAttempt(
            account_key=account_key(command.email),
            ip_address=command.context.ip_address,
            succeeded=False,
            created_at=now,
        )
        failing = _COUNTING.note(command.context)
        failing.metadata.update(self._attempted_email(command))
        counted = await self._runner.run(
            failing, lambda uow: self._count(uow, command, failing, attempt)
        )
        if isinstance(counted, Failure):
            return counted
        user = counted.value.user
        if user is None or user.is_closed:
            await self._dummy_check.verify(command.password)
            return await self._rejected(failing, user, "unknown_account")
        if not await self._hasher.verify(user.password_hash, command.password):
            return await self._rejected(failing, user, "wrong_password")
        if not user.can_log_in:
            return await self._rejected(failing, user, "account_disabled")
        second_factor = counted.value.has_second_factor
        # A password that no longer meets the policy still works until it is changed.
        weak = self._password_policy.check(
            command.password, email=user.email, second_factor=second_factor
        )
        rehashed = await self._rehashed(user, command.password)
        if second_factor:
            return await self._challenge(command, user, attempt, now, rehashed, weak.is_failure())
        return await self._open_session(command, user, attempt, now, rehashed, weak.is_failure())

    async def _count(
        self, uow: UnitOfWork, command: LogIn, failing: AuditNote, attempt: LoginAttempt
    ) -> Result[_Counted, Error]:
        """Step 1, committed on its own: the attempt counted as a failure, and its user."""
        locked = await uow.login_attempts.lock_account(attempt.account_key)
        if isinstance(locked, Failure):
            return locked
        throttled = await check_throttle(
            uow,
            self._throttle,
            key=attempt.account_key,
            ip_address=attempt.ip_address,
            now=attempt.created_at,
        )
        if isinstance(throttled, Failure):
            return throttled
        user: User | None = None
        second_factor = False
        match Email.parse(command.email):
            case Success(email):
                found = await uow.users.find_by_email(email)
                if isinstance(found, Failure):
                    return found
                user = found.value
        if user is not None:
            failing.resource_id = failing.actor_id = user.id
            factor = await uow.second_factors.get_totp(user.id)
            if isinstance(factor, Failure):
                return factor
            second_factor = factor.value is not None and factor.value.is_confirmed
        # Fail closed: an attempt that cannot be counted is not checked either.
        provisional = await uow.login_attempts.add(attempt)
        return provisional.map(lambda _: _Counted(user, second_factor))

    async def _rejected(
        self, failing: AuditNote, user: User | None, reason: str
    ) -> Result[LoginOutcome, Error]:
        """The failure keeps its event (the attempt was counted already)."""

        async def reject(uow: UnitOfWork) -> Result[LoginOutcome, Error]:
            uow.raise_event(UserLoginFailed(user_id=user.id if user else None, reason=reason))
            failing.keep_failure()
            failing.failed_because(reason)
            return Failure(_bad_credentials())

        return await self._runner.run(failing, reject)

    async def _rehashed(self, user: User, password: str) -> bool:
        if not self._hasher.needs_rehash(user.password_hash):
            return False
        # Parameters were raised since this hash was made: upgrade it while we can.
        user.password_hash = await self._hasher.hash(password)
        return True

    async def _challenge(
        self,
        command: LogIn,
        user: User,
        counted: LoginAttempt,
        now: datetime,
        rehashed: bool,
        weak_password: bool,
    ) -> Result[LoginOutcome, Error]:
        """The password was right: a ticket for the second step, and no session yet."""
        ticket = self._mfa_secrets.new_ticket()
        challenge = MfaChallenge(
            user_id=user.id,
            ticket_hash=self._mfa_secrets.ticket_digest(ticket),
            expires_at=now + MFA_TICKET_LIFETIME,
            remember_me=command.remember_me,
            password_change_recommended=weak_password,
            ip_address=command.context.ip_address,
            user_agent=command.context.user_agent,
            created_at=now,
        )
        note = _PASSWORD_VERIFIED.note(command.context, resource_id=user.id, actor_id=user.id)

        async def open_challenge(uow: UnitOfWork) -> Result[LoginOutcome, Error]:
            # The password was no failure: uncount it, but record no success until the second
            # factor is proven (a success would reset the account's count).
            steps: list[Result[object, Error]] = [
                await uow.login_attempts.remove(counted.id),
                await uow.mfa_challenges.add(challenge),
            ]
            if rehashed:
                steps.append(await uow.users.update(user))
            if (failed := next((s for s in steps if isinstance(s, Failure)), None)) is not None:
                return failed
            expires_in = int(MFA_TICKET_LIFETIME.total_seconds())
            return Success(MfaRequired(mfa_ticket=ticket, expires_in=expires_in))

        return await self._runner.run(note, open_challenge)

    async def _open_session(
        self,
        command: LogIn,
        user: User,
        counted: LoginAttempt,
        now: datetime,
        rehashed: bool,
        weak_password: bool,
    ) -> Result[LoginOutcome, Error]:
        opening = self._opener.prepare(
            user_id=user.id,
            context=command.context,
            remember_me=command.remember_me,
            second_factor=False,
            now=now,
        )
        session = opening.session
        note = _LOGIN.note(command.context, resource_id=user.id, actor_id=user.id)
        note.on_success(resource=(ResourceType.SESSION, session.id))

        async def open_session(uow: UnitOfWork) -> Result[None, Error]:
            written = await self._opener.write(uow, opening, counted=counted, now=now)
            if isinstance(written, Failure):
                return written
            if rehashed and isinstance(updated := await uow.users.update(user), Failure):
                return updated
            uow.raise_event(UserLoggedIn(user_id=user.id, session_id=session.id))
            return Success(None)

        opened = await self._runner.run(note, open_session)
        if isinstance(opened, Failure):
            return opened
        self._logger.info("user_logged_in", user_id=str(user.id), session_id=str(session.id))
        return Success(self._opener.pair(opening, now, password_change_recommended=weak_password))

    def _attempted_email(self, command: LogIn) -> dict[str, object]:
        """What the trail may keep of the typed address: never the raw text.

        The trail is append-only, so a passphrase typed into the email field would stay
        forever: only an address that parses is kept (canonical, so it carries no control
        character either); anything else leaves a keyed digest that matches repeats.
        """
        match Email.parse(command.email):
            case Success(email):
                return {"email": email.value}
            case Failure():
                return {
                    "email_valid": False,
                    "email_digest": self._identifier_digest.digest(command.email),
                }


class RefreshTokensHandler:
    """Rotates a refresh token; a token used twice revokes its whole session (theft)."""

    audits = Audits(
        action=AuditAction.TOKEN_REFRESHED,
        failed_action=AuditAction.TOKEN_REFRESH_FAILED,
        resource_type=ResourceType.SESSION,
    )

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenService,
        logger: LoggerProtocol,
        session_policy: SessionPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._tokens = tokens
        self._session_policy = session_policy or SessionPolicy()
        self._logger = logger
        self._clock = clock

    async def handle(self, command: RefreshTokens) -> Result[TokenPair, Error]:
        now = self._clock()
        note = self.audits.note(command.context)
        new_token = self._tokens.new_refresh_token()
        rotated = await self._runner.run(
            note, lambda uow: self._rotate(uow, command, note, new_token, now)
        )
        if isinstance(rotated, Failure):
            return rotated
        return Success(token_pair(self._tokens, rotated.value, new_token, now))

    async def _rotate(
        self,
        uow: UnitOfWork,
        command: RefreshTokens,
        note: AuditNote,
        new_token: str,
        now: datetime,
    ) -> Result[AuthSession, Error]:
        found = await uow.refresh_tokens.find_by_hash(
            self._tokens.hash_refresh_token(command.refresh_token)
        )
        if isinstance(found, Failure):
            return found
        token = found.value
        if token is None:
            note.failed_because("unknown_token")
            return Failure(_bad_refresh())
        loaded = await uow.sessions.get(token.session_id)
        if isinstance(loaded, Failure):
            return loaded
        session = loaded.value
        if session is not None:
            note.resource_id, note.actor_id = session.id, session.user_id
        if session is None or not session.is_active(now) or token.expires_at <= now:
            note.failed_because("session_ended")
            return Failure(_bad_refresh())
        won = await uow.refresh_tokens.mark_rotated(token.id, now=now)
        if isinstance(won, Failure):
            return won
        if token.rotated_at is not None or not won.value:
            return await self._reused(uow, note, session, now)
        owner = await uow.users.get(session.user_id)
        if isinstance(owner, Failure) or owner.value is None or not owner.value.can_log_in:
            note.failed_because("account_disabled")
            return Failure(_bad_refresh())
        session.last_used_at = now
        # Sliding expiry (the idle timeout), capped by the session's absolute lifetime.
        session.expires_at = self._session_policy.ends_at(session, now=now)
        added = await uow.refresh_tokens.add(
            RefreshToken(
                session_id=session.id,
                token_hash=self._tokens.hash_refresh_token(new_token),
                expires_at=session.expires_at,
                created_at=now,
            )
        )
        if isinstance(added, Failure):
            return added
        return (await uow.sessions.update(session)).map(lambda _: session)

    async def _reused(
        self, uow: UnitOfWork, note: AuditNote, session: AuthSession, now: datetime
    ) -> Failure[Error]:
        """A rotated token came back: someone holds a copy. End the session for everyone.

        The session's end and its event are the refusal's own trace: kept, with the DENIED
        record, in the same transaction.
        """
        # Start over from what is committed: a concurrent rotation may have changed the session.
        await uow.rollback()
        match await uow.sessions.get(session.id):
            case Success(AuthSession() as current):
                current.revoke("refresh_token_reuse", now)
                await uow.sessions.update(current)
        uow.raise_event(RefreshTokenReuseDetected(user_id=session.user_id, session_id=session.id))
        note.refused(action=AuditAction.REFRESH_TOKEN_REUSED, reason="refresh_token_reuse")
        note.keep_failure()
        self._logger.warning(
            "refresh_token_reuse_detected",
            session_id=str(session.id),
            user_id=str(session.user_id),
        )
        return Failure(
            AuthenticationError(
                "the refresh token was already used; the session has been ended",
                code="refresh_token_reused",
            )
        )
