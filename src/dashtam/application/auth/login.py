"""Log in and refresh: issue a session, rotate its refresh tokens, detect token theft."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from dashtam.application.auth.commands import LogIn, RefreshTokens, TokenPair
from dashtam.application.auth.throttle import account_key, check_throttle
from dashtam.application.auth.timing import DummyPasswordCheck
from dashtam.application.failures import record_failure
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
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


class LoginHandler:
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
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._tokens = tokens
        self._dummy_check = dummy_check
        self._identifier_digest = identifier_digest
        self._logger = logger
        self._throttle = throttle or ThrottlePolicy()
        self._clock = clock

    async def handle(self, command: LogIn) -> Result[TokenPair, Error]:
        now = self._clock()
        context = command.context
        key = account_key(command.email)
        parsed = Email.parse(command.email)
        email = parsed.value if isinstance(parsed, Success) else None

        async with self._uow_factory() as uow:
            locked = await uow.login_attempts.lock_account(key)
            if isinstance(locked, Failure):
                return await self._audit_only(uow, context, None, locked.error, command)
            throttled = await check_throttle(
                uow, self._throttle, key=key, ip_address=context.ip_address, now=now
            )
            if isinstance(throttled, Failure):
                return await self._audit_only(uow, context, None, throttled.error, command)
            user: User | None = None
            if email is not None:
                found = await uow.users.find_by_email(email)
                if isinstance(found, Failure):
                    return await self._audit_only(uow, context, None, found.error, command)
                user = found.value
            # Counted as failed *before* the password is checked, under the account lock:
            # a burst of parallel guesses cannot slip past the limit. A success then records
            # a success, which resets the count.
            counted_attempt = LoginAttempt(
                account_key=key, ip_address=context.ip_address, succeeded=False, created_at=now
            )
            provisional = await uow.login_attempts.add(counted_attempt)
            if isinstance(provisional, Failure):
                return await self._audit_only(uow, context, user, provisional.error, command)
            # Fail closed: an attempt that cannot be counted is not checked either.
            counted = await uow.commit()
            if isinstance(counted, Failure):
                return await self._audit_only(uow, context, user, counted.error, command)

        # The slow hash check runs outside any transaction, and as slowly for every outcome.
        if user is None or user.is_closed:
            await self._dummy_check.verify(command.password)
            return await self._failed(context, user, "unknown_account", command)
        if not await self._hasher.verify(user.password_hash, command.password):
            return await self._failed(context, user, "wrong_password", command)
        if not user.can_log_in:
            return await self._failed(context, user, "account_disabled", command)
        return await self._succeeded(context, key, user, command.password, now, counted_attempt)

    async def _succeeded(
        self,
        context: AuditContext,
        key: str,
        user: User,
        password: str,
        now: datetime,
        counted_attempt: LoginAttempt,
    ) -> Result[TokenPair, Error]:
        refresh_token = self._tokens.new_refresh_token()
        session = AuthSession(
            user_id=user.id,
            expires_at=now + self._tokens.refresh_token_ttl,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            created_at=now,
            last_used_at=now,
        )
        rehashed = (
            await self._hasher.hash(password)
            if self._hasher.needs_rehash(user.password_hash)
            else None
        )
        async with self._uow_factory() as uow:
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
                await uow.login_attempts.remove(counted_attempt.id),
                await uow.login_attempts.add(
                    LoginAttempt(
                        account_key=key,
                        ip_address=context.ip_address,
                        succeeded=True,
                        created_at=now,
                    )
                ),
            ]
            if rehashed is not None:
                # Parameters were raised since this hash was made: upgrade it while we can.
                user.password_hash = rehashed
                steps.append(await uow.users.update(user))
            failed = next((step for step in steps if isinstance(step, Failure)), None)
            if failed is not None:
                return await self._audit_only(uow, context, user, failed.error, None)
            uow.raise_event(UserLoggedIn(user_id=user.id, session_id=session.id))
            uow.audit(
                AuditEntry.of(
                    context,
                    action=AuditAction.USER_LOGIN_SUCCEEDED,
                    outcome=AuditOutcome.SUCCEEDED,
                    resource_type=ResourceType.SESSION,
                    resource_id=session.id,
                    actor_id=user.id,
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._audit_only(uow, context, user, committed.error, None)
        self._logger.info("user_logged_in", user_id=str(user.id), session_id=str(session.id))
        return Success(
            TokenPair(
                access_token=self._tokens.issue_access_token(
                    user_id=user.id, session_id=session.id, now=now
                ),
                refresh_token=refresh_token,
                expires_in=int(self._tokens.access_token_ttl.total_seconds()),
                user_id=user.id,
                session_id=session.id,
            )
        )

    async def _failed(
        self, context: AuditContext, user: User | None, reason: str, command: LogIn
    ) -> Failure[Error]:
        """Raise the event and audit the failure (the attempt was counted already)."""
        async with self._uow_factory() as uow:
            uow.raise_event(UserLoginFailed(user_id=user.id if user else None, reason=reason))
            uow.audit(self._failure_entry(context, user, reason, command))
            committed = await uow.commit()
            if isinstance(committed, Failure):
                # The event could not be stored; the audit record must still be written.
                self._logger.error("login_failure_event_lost", code=committed.error.code)
                await uow.record_failure(self._failure_entry(context, user, reason, command))
        self._logger.info("user_login_failed", reason=reason)
        return Failure(_bad_credentials())

    async def _audit_only(
        self,
        uow: UnitOfWork,
        context: AuditContext,
        user: User | None,
        error: Error,
        command: LogIn | None,
    ) -> Failure[Error]:
        await record_failure(
            self._uow_factory, uow, self._failure_entry(context, user, error.code, command)
        )
        return Failure(error)

    def _failure_entry(
        self, context: AuditContext, user: User | None, reason: str, command: LogIn | None
    ) -> AuditEntry:
        return AuditEntry.of(
            context,
            action=AuditAction.USER_LOGIN_FAILED,
            outcome=AuditOutcome.FAILED,
            resource_type=ResourceType.USER,
            resource_id=user.id if user else None,
            actor_id=user.id if user else None,
            reason=reason,
            metadata=self._attempted_email(command) if command else {},
        )

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

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        tokens: TokenService,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._logger = logger
        self._clock = clock

    async def handle(self, command: RefreshTokens) -> Result[TokenPair, Error]:
        now = self._clock()
        context = command.context
        async with self._uow_factory() as uow:
            found = await uow.refresh_tokens.find_by_hash(
                self._tokens.hash_refresh_token(command.refresh_token)
            )
            if isinstance(found, Failure):
                return await self._fail(uow, context, None, found.error.code, found.error)
            token = found.value
            if token is None:
                return await self._fail(uow, context, None, "unknown_token", _bad_refresh())
            loaded = await uow.sessions.get(token.session_id)
            if isinstance(loaded, Failure):
                return await self._fail(uow, context, None, loaded.error.code, loaded.error)
            session = loaded.value
            if session is None or not session.is_active(now) or token.expires_at <= now:
                return await self._fail(uow, context, session, "session_ended", _bad_refresh())
            if token.rotated_at is not None:
                return await self._reused(uow, context, session, now)
            won = await uow.refresh_tokens.mark_rotated(token.id, now=now)
            if isinstance(won, Failure):
                return await self._fail(uow, context, session, won.error.code, won.error)
            if not won.value:
                return await self._reused(uow, context, session, now)
            owner = await uow.users.get(session.user_id)
            if isinstance(owner, Failure) or owner.value is None or not owner.value.can_log_in:
                return await self._fail(uow, context, session, "account_disabled", _bad_refresh())

            new_token = self._tokens.new_refresh_token()
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
            updated = await uow.sessions.update(session)
            for step in (added, updated):
                if isinstance(step, Failure):
                    return await self._fail(uow, context, session, step.error.code, step.error)
            uow.audit(self._entry(context, session, AuditAction.TOKEN_REFRESHED, None))
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, context, session, "commit_failed", committed.error)
        return Success(
            TokenPair(
                access_token=self._tokens.issue_access_token(
                    user_id=session.user_id, session_id=session.id, now=now
                ),
                refresh_token=new_token,
                expires_in=int(self._tokens.access_token_ttl.total_seconds()),
                user_id=session.user_id,
                session_id=session.id,
            )
        )

    async def _reused(
        self, uow: UnitOfWork, context: AuditContext, session: AuthSession, now: datetime
    ) -> Failure[Error]:
        """A rotated token came back: someone holds a copy. End the session for everyone."""
        await uow.rollback()
        session_now = await uow.sessions.get(session.id)
        current = session_now.value if isinstance(session_now, Success) else None
        if current is not None:
            current.revoke("refresh_token_reuse", now)
            await uow.sessions.update(current)
        uow.raise_event(RefreshTokenReuseDetected(user_id=session.user_id, session_id=session.id))
        uow.audit(
            AuditEntry.of(
                context,
                action=AuditAction.REFRESH_TOKEN_REUSED,
                outcome=AuditOutcome.DENIED,
                resource_type=ResourceType.SESSION,
                resource_id=session.id,
                actor_id=session.user_id,
                reason="refresh_token_reuse",
            )
        )
        committed = await uow.commit()
        if isinstance(committed, Failure):
            self._logger.error("token_reuse_revocation_failed", code=committed.error.code)
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

    async def _fail(
        self,
        uow: UnitOfWork,
        context: AuditContext,
        session: AuthSession | None,
        reason: str,
        error: Error,
    ) -> Failure[Error]:
        entry = self._entry(context, session, AuditAction.TOKEN_REFRESH_FAILED, reason)
        await record_failure(self._uow_factory, uow, entry)
        return Failure(error)

    @staticmethod
    def _entry(
        context: AuditContext,
        session: AuthSession | None,
        action: AuditAction,
        reason: str | None,
    ) -> AuditEntry:
        return AuditEntry.of(
            context,
            action=action,
            outcome=AuditOutcome.SUCCEEDED if reason is None else AuditOutcome.FAILED,
            resource_type=ResourceType.SESSION,
            resource_id=session.id if session else None,
            actor_id=session.user_id if session else None,
            reason=reason,
        )
