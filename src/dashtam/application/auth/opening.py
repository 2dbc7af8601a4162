"""What every successful log-in writes: a session, its first refresh token, the counted success.

Shared by the one-step log-in (password only) and the second step of a two-step one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dashtam.application.auth.commands import TokenPair
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken, SessionPolicy
from dashtam.domain.protocols.tokens import TokenService


def token_pair(
    tokens: TokenService,
    session: AuthSession,
    refresh_token: str,
    now: datetime,
    *,
    password_change_recommended: bool = False,
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
        password_change_recommended=password_change_recommended,
    )


@dataclass(frozen=True, slots=True)
class SessionOpening:
    session: AuthSession
    refresh_token: str


class SessionOpener:
    """Builds a new session under the session policy, and writes it with its refresh token."""

    def __init__(self, *, tokens: TokenService, policy: SessionPolicy) -> None:
        self._tokens = tokens
        self._policy = policy

    def prepare(
        self,
        *,
        user_id: UUID,
        context: AuditContext,
        remember_me: bool,
        second_factor: bool,
        now: datetime,
    ) -> SessionOpening:
        session = AuthSession(
            user_id=user_id,
            expires_at=now,
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            created_at=now,
            last_used_at=now,
            remember_me=remember_me,
            second_factor=second_factor,
        )
        session.expires_at = self._policy.ends_at(session, now=now)
        return SessionOpening(session, self._tokens.new_refresh_token())

    async def write(
        self, uow: UnitOfWork, opening: SessionOpening, *, counted: LoginAttempt, now: datetime
    ) -> Result[None, Error]:
        """The session, its refresh token, and the provisional failure turned into a success."""
        session = opening.session
        steps: list[Result[object, Error]] = [
            await uow.sessions.add(session),
            await uow.refresh_tokens.add(
                RefreshToken(
                    session_id=session.id,
                    token_hash=self._tokens.hash_refresh_token(opening.refresh_token),
                    expires_at=session.expires_at,
                    created_at=now,
                )
            ),
            # It was no failure after all: it counts as the success it was (for the per-ip
            # limit too), which resets the account's count.
            await uow.login_attempts.count_as_success(counted.id),
        ]
        return next((step for step in steps if isinstance(step, Failure)), Success(None))

    def pair(
        self, opening: SessionOpening, now: datetime, *, password_change_recommended: bool
    ) -> TokenPair:
        return token_pair(
            self._tokens,
            opening.session,
            opening.refresh_token,
            now,
            password_change_recommended=password_change_recommended,
        )
