"""Personal access tokens of the signed-in user: create, list, revoke (each write audited)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dashtam.application.lifecycle import Audits, ReadRunner, UseCaseRunner
from dashtam.application.personal_tokens import rules
from dashtam.application.personal_tokens.commands import (
    MAX_TOKEN_PAGE,
    CreatePersonalToken,
    IssuedPersonalToken,
    ListPersonalTokens,
    RevokePersonalToken,
)
from dashtam.application.reads import ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.personal_tokens.entities import (
    MAX_ACTIVE_TOKENS_PER_USER,
    PersonalAccessToken,
)
from dashtam.domain.personal_tokens.events import PersonalTokenCreated, PersonalTokenRevoked
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.protocols.personal_tokens import PersonalTokenCodec

_TOKEN = ResourceType.PERSONAL_TOKEN
_CREATED = Audits(action=AuditAction.PERSONAL_TOKEN_CREATED, resource_type=_TOKEN)
_REVOKED = Audits(action=AuditAction.PERSONAL_TOKEN_REVOKED, resource_type=_TOKEN)
_LIMIT = ConflictError(
    f"a user has at most {MAX_ACTIVE_TOKENS_PER_USER} active personal access tokens; "
    "revoke one first",
    code="personal_token_limit_reached",
)


def _not_found() -> NotFoundError:
    return NotFoundError("personal access token not found")


class PersonalTokenHandlers:
    """The token's text exists once, in the answer to its creation; records name its id."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        read_uow_factory: ReadUnitOfWorkFactory,
        codec: PersonalTokenCodec,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._reads = ReadRunner(read_uow_factory)
        self._codec = codec
        self._logger = logger
        self._clock = clock

    async def create(self, command: CreatePersonalToken) -> Result[IssuedPersonalToken, Error]:
        note = _CREATED.note(command.context, actor_id=command.user_id)
        name = rules.token_name(command.name)
        scopes = rules.token_scopes(command.scopes)
        days = rules.lifetime_days(command.expires_in_days)
        for checked in (name, scopes, days):
            if isinstance(checked, Failure):
                return await self._runner.refuse(note, checked.error)
        now = self._clock()
        new = self._codec.issue()
        token = PersonalAccessToken(
            user_id=command.user_id,
            name=name.unwrap(),
            token_hash=new.digest,
            token_hint=new.hint,
            scopes=scopes.unwrap(),
            expires_at=now + timedelta(days=days.unwrap()),
            created_at=now,
            updated_at=now,
        )

        async def create(uow: UnitOfWork) -> Result[PersonalAccessToken, Error]:
            # Counted in the transaction; two racing creations may pass one over the limit,
            # which bounds the abuse just the same.
            counted = await uow.personal_tokens.count_active(command.user_id, now=now)
            if isinstance(counted, Failure):
                return counted
            if counted.value >= MAX_ACTIVE_TOKENS_PER_USER:
                return Failure(_LIMIT)
            added = await uow.personal_tokens.add(token)
            if isinstance(added, Failure):
                return added
            scope_names = tuple(sorted(scope.value for scope in token.scopes))
            uow.raise_event(
                PersonalTokenCreated(
                    user_id=token.user_id,
                    token_id=token.id,
                    scopes=scope_names,
                    expires_at=token.expires_at,
                )
            )
            note.on_success(
                resource=(_TOKEN, token.id),
                name=token.name,
                scopes=list(scope_names),
                expires_at=token.expires_at.isoformat(),
            )
            return added

        created = await self._runner.run(note, create)
        if isinstance(created, Failure):
            return created
        self._logger.info("personal_token_created", token_id=str(token.id))
        return Success(IssuedPersonalToken(token=created.value, text=new.text))

    async def revoke(self, command: RevokePersonalToken) -> Result[None, Error]:
        """Someone else's token is "not found", exactly like a missing one; revoking a token
        that already is revoked changes (and records) nothing."""
        note = _REVOKED.note(
            command.context, resource_id=command.token_id, actor_id=command.user_id
        )
        now = self._clock()

        async def revoke(uow: UnitOfWork) -> Result[None, Error]:
            loaded = await uow.personal_tokens.get(command.token_id)
            if isinstance(loaded, Failure):
                return loaded
            token = loaded.value
            if token is None or token.user_id != command.user_id:
                return Failure(_not_found())
            if not token.revoke("revoked_by_user", now):
                note.nothing_changed()
                return Success(None)
            updated = await uow.personal_tokens.update(token)
            if isinstance(updated, Failure):
                return updated
            uow.raise_event(
                PersonalTokenRevoked(
                    user_id=token.user_id, token_id=token.id, reason="revoked_by_user"
                )
            )
            return Success(None)

        revoked = await self._runner.run(note, revoke)
        if isinstance(revoked, Success):
            self._logger.info("personal_token_revoked", token_id=str(command.token_id))
        return revoked

    async def list_tokens(
        self, query: ListPersonalTokens
    ) -> Result[Sequence[PersonalAccessToken], Error]:
        """The caller's own tokens, newest first (an identity read: not audited, like sessions)."""
        limit = max(1, min(query.limit, MAX_TOKEN_PAGE))
        return await self._reads.read(
            None,
            lambda uow: uow.personal_tokens.list_for_user(
                query.user_id, after=query.after, limit=limit
            ),
        )
