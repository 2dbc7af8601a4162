"""A request made with a personal access token: who it is, and what the token allows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dashtam.application.auth.commands import TokenPrincipal
from dashtam.application.auth.revoked_use import RevokedTokenUse
from dashtam.application.lifecycle import ReadRunner
from dashtam.application.personal_tokens.usage import TokenUsage
from dashtam.application.reads import ReadUnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import AuthenticationError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditContext, ResourceType
from dashtam.domain.personal_tokens.entities import PersonalAccessToken
from dashtam.domain.protocols.personal_tokens import PersonalTokenCodec
from dashtam.domain.users.entities import User


def _invalid() -> AuthenticationError:
    return AuthenticationError("the access token is invalid", code="invalid_token")


def _refusal(token: PersonalAccessToken, owner: User, now: datetime) -> tuple[str, Error] | None:
    """Why a stored token no longer works (the reason recorded, the error answered), if so."""
    if token.revoked_at is not None:
        error = AuthenticationError("the personal access token was revoked", code="token_revoked")
        return "token_revoked", error
    if token.expires_at <= now:
        error = AuthenticationError("the personal access token has expired", code="token_expired")
        return "token_expired", error
    if not owner.can_log_in:
        # Deactivated or closed: every token stops at once, whether or not it was revoked.
        error = AuthenticationError("the account is disabled", code="token_revoked")
        return "account_disabled", error
    return None


class PersonalTokenAuthenticator:
    """Checks a ``dtm_pat_`` token on every use: its digest is stored, it is neither revoked
    nor expired, and its owner may still sign in. Each use is noted for ``last_used_at``."""

    def __init__(
        self,
        *,
        uow_factory: ReadUnitOfWorkFactory,
        codec: PersonalTokenCodec,
        usage: TokenUsage,
        revoked_use: RevokedTokenUse,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = ReadRunner(uow_factory)
        self._codec = codec
        self._usage = usage
        self._revoked_use = revoked_use
        self._clock = clock

    async def handle(self, text: str, context: AuditContext) -> Result[TokenPrincipal, Error]:
        digest = self._codec.digest(text)
        if digest is None:  # malformed or a bad checksum: no database work for noise
            return Failure(_invalid())
        now = self._clock()
        found = await self._runner.read(
            None, lambda uow: uow.personal_tokens.find_with_user(digest)
        )
        if isinstance(found, Failure):
            return found
        if found.value is None:
            return Failure(_invalid())
        token, owner = found.value
        refusal = _refusal(token, owner, now)
        if refusal is not None:
            reason, error = refusal
            await self._revoked_use.record(
                error,
                resource_type=ResourceType.PERSONAL_TOKEN,
                resource_id=token.id,
                user_id=token.user_id,
                reason=reason,
                context=context,
            )
            return Failure(error)
        self._usage.note(token.id, now)
        return Success(TokenPrincipal(user=owner, token_id=token.id, scopes=token.scopes))
