"""Who is calling (token -> principal), and the caller's own log-in sessions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dashtam.application.auth.commands import (
    Principal,
    RevokeOtherSessions,
    RevokeSession,
    SessionPrincipal,
)
from dashtam.application.auth.revoked_use import RevokedTokenUse
from dashtam.application.lifecycle import Audits, ReadRunner, UseCaseRunner
from dashtam.application.personal_tokens.authenticate import PersonalTokenAuthenticator
from dashtam.application.reads import ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType
from dashtam.domain.auth.entities import AuthSession
from dashtam.domain.auth.events import SessionRevoked
from dashtam.domain.personal_tokens.entities import PERSONAL_TOKEN_PREFIX
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.tokens import TokenService


def _revoked() -> AuthenticationError:
    return AuthenticationError("the session has ended; log in again", code="token_revoked")


class AuthenticateHandler:
    """Who is calling: an access token whose session and user are still valid, or a personal
    access token (``dtm_pat_...``). A read only, but for the trace of a revoked token's use."""

    def __init__(
        self,
        *,
        uow_factory: ReadUnitOfWorkFactory,
        tokens: TokenService,
        personal_tokens: PersonalTokenAuthenticator,
        revoked_use: RevokedTokenUse,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = ReadRunner(uow_factory)
        self._tokens = tokens
        self._personal_tokens = personal_tokens
        self._revoked_use = revoked_use
        self._clock = clock

    async def handle(
        self, access_token: str, context: AuditContext | None = None
    ) -> Result[Principal, Error]:
        context = context or AuditContext()
        if access_token.startswith(PERSONAL_TOKEN_PREFIX):
            return await self._personal_tokens.handle(access_token, context)
        now = self._clock()
        verified = self._tokens.verify_access_token(access_token, now=now)
        if isinstance(verified, Failure):
            return verified
        claims = verified.value
        revoked: list[AuthSession] = []

        # Checked on every request so that log-out and revocation take effect at once.
        async def check(uow: ReadUnitOfWork) -> Result[Principal, Error]:
            found = await uow.sessions.get_with_user(claims.session_id)
            if isinstance(found, Failure):
                return found
            if found.value is None:
                return Failure(_revoked())
            session, user = found.value
            if session.user_id != claims.user_id:
                return Failure(_revoked())
            if session.revoked_at is not None:
                revoked.append(session)
                return Failure(_revoked())
            if not session.is_active(now) or not user.can_log_in:
                return Failure(_revoked())
            return Success(SessionPrincipal(user=user, session=session))

        checked = await self._runner.read(None, check)
        if isinstance(checked, Failure) and revoked:
            # The signature is valid: the token is ours, presented after its session ended.
            await self._revoked_use.record(
                checked.error,
                resource_type=ResourceType.SESSION,
                resource_id=revoked[0].id,
                user_id=revoked[0].user_id,
                reason="session_revoked",
                context=context,
                revoked_because=revoked[0].revoked_reason,
            )
        return checked


class ListSessionsHandler:
    def __init__(
        self, *, uow_factory: ReadUnitOfWorkFactory, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._runner = ReadRunner(uow_factory)
        self._clock = clock

    async def handle(self, principal: Principal) -> Result[Sequence[AuthSession], Error]:
        now = self._clock()
        return await self._runner.read(
            None, lambda uow: uow.sessions.list_active(principal.user.id, now=now)
        )


class RevokeSessionHandler:
    """Ends one of the caller's sessions (the current one is a log-out)."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._logger = logger
        self._clock = clock

    async def handle(self, command: RevokeSession) -> Result[None, Error]:
        now = self._clock()
        user_id = command.principal.user.id
        is_current = command.session_id == command.principal.session.id
        audits = Audits(
            action=AuditAction.USER_LOGGED_OUT if is_current else AuditAction.SESSION_REVOKED,
            resource_type=ResourceType.SESSION,
        )
        note = audits.note(command.context, resource_id=command.session_id, actor_id=user_id)

        async def revoke(uow: UnitOfWork) -> Result[None, Error]:
            loaded = await uow.sessions.get(command.session_id)
            if isinstance(loaded, Failure):
                return loaded
            session = loaded.value
            # Another user's session is reported exactly like a missing one.
            if session is None or session.user_id != user_id or not session.is_active(now):
                return Failure(NotFoundError("session not found"))
            session.revoke("logout" if is_current else "revoked_by_user", now)
            updated = await uow.sessions.update(session)
            if isinstance(updated, Success):
                uow.raise_event(
                    SessionRevoked(
                        user_id=user_id,
                        session_id=session.id,
                        reason=session.revoked_reason or "revoked",
                    )
                )
            return updated.map(lambda _: None)

        revoked = await self._runner.run(note, revoke)
        if isinstance(revoked, Success):
            self._logger.info("session_revoked", session_id=str(command.session_id))
        return revoked


class RevokeOtherSessionsHandler:
    """Ends every session of the caller but the current one ("log out other devices")."""

    audits = Audits(action=AuditAction.SESSIONS_OTHERS_REVOKED, resource_type=ResourceType.SESSION)

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._logger = logger
        self._clock = clock

    async def handle(self, command: RevokeOtherSessions) -> Result[int, Error]:
        now = self._clock()
        user_id, current = command.principal.user.id, command.principal.session.id
        note = self.audits.note(command.context, resource_id=current, actor_id=user_id)

        async def revoke(uow: UnitOfWork) -> Result[int, Error]:
            revoked = await uow.sessions.revoke_all(
                user_id, reason="revoked_by_user", now=now, keep=current
            )
            if isinstance(revoked, Failure):
                return revoked
            for session_id in revoked.value:
                uow.raise_event(
                    SessionRevoked(user_id=user_id, session_id=session_id, reason="revoked_by_user")
                )
            note.on_success(sessions_revoked=len(revoked.value))
            return Success(len(revoked.value))

        revoked = await self._runner.run(note, revoke)
        if isinstance(revoked, Success):
            self._logger.info("other_sessions_revoked", count=revoked.value)
        return revoked
