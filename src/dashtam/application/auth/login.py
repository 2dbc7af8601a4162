"""Log in and refresh: issue a session, rotate its refresh tokens, detect token theft."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from dashtam.application.auth.commands import LogIn, RefreshTokens, TokenPair
from dashtam.application.auth.throttle import account_key, check_throttle
from dashtam.application.auth.timing import DummyPasswordCheck
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken, ThrottlePolicy
from dashtam.domain.auth.events import RefreshTokenReuseDetected, UserLoggedIn, UserLoginFailed
from dashtam.domain.protocols.identifiers import IdentifierDigest
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.protocols.tokens import TokenService
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email

INVALID_CREDENTIALS = "invalid email or password"
MAX_SESSION_LIFETIME = timedelta(days=90)


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


def token_pair(
    tokens: TokenService, session: AuthSession, refresh_token: str, now: datetime
) -> TokenPair:
    """What the caller gets for an open session: a new access token and ``refresh_token``."""
    return TokenPair(
        access_token=tokens.issue_access_token(
            user_id=session.user_id, session_id=session.id, now=now
        ),
        refresh_token=refresh_token,
        expires_in=int(tokens.access_token_ttl.total_seconds()),
        user_id=session.user_id,
        session_id=session.id,
    )


class LoginHandler:
    """Log-in, in three explicit steps: count the attempt, check the password, open a session.

    The attempt is counted as failed and committed *before* the password is checked, under
    the account's lock: a burst of parallel guesses cannot slip past the limit. The slow hash
    check runs outside any transaction, as slowly for every outcome. A success removes the
    provisional failure and records a success, which resets the count.
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
        throttle: ThrottlePolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._hasher = hasher
        self._tokens = tokens
        self._dummy_check = dummy_check
        self._identifier_digest = identifier_digest
        self._logger = logger
        self._throttle = throttle or ThrottlePolicy()
        self._clock = clock

    async def handle(self, command: LogIn) -> Result[TokenPair, Error]:
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
        user = counted.value
        if user is None or user.is_closed:
            await self._dummy_check.verify(command.password)
            return await self._rejected(failing, user, "unknown_account")
        if not await self._hasher.verify(user.password_hash, command.password):
            return await self._rejected(failing, user, "wrong_password")
        if not user.can_log_in:
            return await self._rejected(failing, user, "account_disabled")
        return await self._open_session(command, user, attempt, now)

    async def _count(
        self, uow: UnitOfWork, command: LogIn, failing: AuditNote, attempt: LoginAttempt
    ) -> Result[User | None, Error]:
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
        match Email.parse(command.email):
            case Success(email):
                found = await uow.users.find_by_email(email)
                if isinstance(found, Failure):
                    return found
                user = found.value
        if user is not None:
            failing.resource_id = failing.actor_id = user.id
        # Fail closed: an attempt that cannot be counted is not checked either.
        provisional = await uow.login_attempts.add(attempt)
        return provisional.map(lambda _: user)

    async def _rejected(
        self, failing: AuditNote, user: User | None, reason: str
    ) -> Result[TokenPair, Error]:
        """The failure keeps its event (the attempt was counted already)."""

        async def reject(uow: UnitOfWork) -> Result[TokenPair, Error]:
            uow.raise_event(UserLoginFailed(user_id=user.id if user else None, reason=reason))
            failing.keep_failure()
            failing.failed_because(reason)
            return Failure(_bad_credentials())

        return await self._runner.run(failing, reject)

    async def _open_session(
        self, command: LogIn, user: User, counted: LoginAttempt, now: datetime
    ) -> Result[TokenPair, Error]:
        context = command.context
        refresh_token = self._tokens.new_refresh_token()
        session = AuthSession(
            user_id=user.id,
            expires_at=now + self._tokens.refresh_token_ttl,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            created_at=now,
            last_used_at=now,
        )
        if self._hasher.needs_rehash(user.password_hash):
            # Parameters were raised since this hash was made: upgrade it while we can.
            user.password_hash = await self._hasher.hash(command.password)
            rehashed = True
        else:
            rehashed = False
        note = _LOGIN.note(context, resource_id=user.id, actor_id=user.id)
        note.on_success(resource=(ResourceType.SESSION, session.id))

        async def open_session(uow: UnitOfWork) -> Result[None, Error]:
            steps: list[Result[object, Error]] = [
                await uow.sessions.add(session),
                await uow.refresh_tokens.add(
                    RefreshToken(
                        session_id=session.id,
                        token_hash=self._tokens.hash_refresh_token(refresh_token),
                        expires_at=session.expires_at,
                        created_at=now,
                    )
                ),
                # It was no failure after all: uncount it (for the per-ip limit too) and
                # record the success, which resets the account's count.
                await uow.login_attempts.remove(counted.id),
                await uow.login_attempts.add(replace(counted, id=new_id(), succeeded=True)),
            ]
            if rehashed:
                steps.append(await uow.users.update(user))
            for step in steps:
                if isinstance(step, Failure):
                    return step
            uow.raise_event(UserLoggedIn(user_id=user.id, session_id=session.id))
            return Success(None)

        opened = await self._runner.run(note, open_session)
        if isinstance(opened, Failure):
            return opened
        self._logger.info("user_logged_in", user_id=str(user.id), session_id=str(session.id))
        return Success(token_pair(self._tokens, session, refresh_token, now))

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
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._tokens = tokens
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
        # Sliding expiry, capped: a session lives at most MAX_SESSION_LIFETIME after log-in.
        session.expires_at = min(
            now + self._tokens.refresh_token_ttl, session.created_at + MAX_SESSION_LIFETIME
        )
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
