"""Who is calling (token -> principal), and the caller's own log-in sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dashtam.application.auth.commands import Principal, RevokeSession
from dashtam.application.failures import record_failure
from dashtam.application.reads import ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.auth.entities import AuthSession
from dashtam.domain.auth.events import SessionRevoked
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.tokens import TokenService


def _revoked() -> AuthenticationError:
    return AuthenticationError("the session has ended; log in again", code="token_revoked")


class AuthenticateHandler:
    """Checks an access token and that its session and user are still valid (a read only)."""

    def __init__(
        self,
        *,
        uow_factory: ReadUnitOfWorkFactory,
        tokens: TokenService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._tokens = tokens
        self._clock = clock

    async def handle(self, access_token: str) -> Result[Principal, Error]:
        now = self._clock()
        verified = self._tokens.verify_access_token(access_token, now=now)
        if isinstance(verified, Failure):
            return verified
        claims = verified.value
        # Checked on every request so that log-out and revocation take effect at once.
        async with self._uow_factory() as uow:
            session = await uow.sessions.get(claims.session_id)
            if isinstance(session, Failure):
                return session
            if (
                session.value is None
                or session.value.user_id != claims.user_id
                or not session.value.is_active(now)
            ):
                return Failure(_revoked())
            user = await uow.users.get(claims.user_id)
            if isinstance(user, Failure):
                return user
            if user.value is None or not user.value.can_log_in:
                return Failure(_revoked())
        return Success(Principal(user=user.value, session=session.value))


class ListSessionsHandler:
    def __init__(
        self, *, uow_factory: UnitOfWorkFactory, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def handle(self, principal: Principal) -> Result[Sequence[AuthSession], Error]:
        async with self._uow_factory() as uow:
            return await uow.sessions.list_active(principal.user.id, now=self._clock())


class RevokeSessionHandler:
    """Ends one of the caller's sessions (the current one is a log-out)."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._logger = logger
        self._clock = clock

    async def handle(self, command: RevokeSession) -> Result[None, Error]:
        now = self._clock()
        user_id = command.principal.user.id
        is_current = command.session_id == command.principal.session.id
        action = AuditAction.USER_LOGGED_OUT if is_current else AuditAction.SESSION_REVOKED
        async with self._uow_factory() as uow:
            loaded = await uow.sessions.get(command.session_id)
            if isinstance(loaded, Failure):
                return loaded
            session = loaded.value
            # Another user's session is reported exactly like a missing one.
            if session is None or session.user_id != user_id or not session.is_active(now):
                entry = self._entry(command, action, AuditOutcome.FAILED, "not_found")
                await record_failure(self._uow_factory, uow, entry)
                return Failure(NotFoundError("session not found"))
            session.revoke("logout" if is_current else "revoked_by_user", now)
            updated = await uow.sessions.update(session)
            if isinstance(updated, Failure):
                entry = self._entry(command, action, AuditOutcome.FAILED, updated.error.code)
                await record_failure(self._uow_factory, uow, entry)
                return updated
            uow.raise_event(
                SessionRevoked(
                    user_id=user_id,
                    session_id=session.id,
                    reason=session.revoked_reason or "revoked",
                )
            )
            uow.audit(self._entry(command, action, AuditOutcome.SUCCEEDED, None))
            committed = await uow.commit()
            if isinstance(committed, Failure):
                entry = self._entry(command, action, AuditOutcome.FAILED, committed.error.code)
                await record_failure(self._uow_factory, uow, entry)
                return committed
        self._logger.info("session_revoked", session_id=str(command.session_id))
        return Success(None)

    @staticmethod
    def _entry(
        command: RevokeSession, action: AuditAction, outcome: AuditOutcome, reason: str | None
    ) -> AuditEntry:
        return AuditEntry.of(
            command.context,
            action=action,
            outcome=outcome,
            resource_type=ResourceType.SESSION,
            resource_id=command.session_id,
            actor_id=command.principal.user.id,
            reason=reason,
        )
