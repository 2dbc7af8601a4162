"""Connecting a live source: claim the user's setup token, keep the access sealed.

The claim happens before the transaction (a network call must not hold a database
connection) and only once: a token is good for one claim. If the database then refuses the
connection, nothing is left behind but a claimed token; the user makes a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dashtam.application.finance.handlers import MAX_LABEL_LENGTH
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.live.commands import ConnectLiveSource
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result
from dashtam.core.text import quoted
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.entities import ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import ProviderConnected
from dashtam.domain.providers.live import AccessGrant, LiveSource

LIVE_PROVIDERS = (ProviderSlug.SIMPLEFIN,)


def credentials_context(connection_id: object) -> str:
    """What a connection's sealed credential is bound to: it opens for this row only."""
    return f"connection:{connection_id}"


class ConnectLiveSourceHandler:
    audits = Audits(
        action=AuditAction.CONNECTION_CREATED,
        failed_action=AuditAction.CONNECTION_CLAIM_FAILED,
        resource_type=ResourceType.PROVIDER_CONNECTION,
        failure_event="live_connection_failed",
    )

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        source: LiveSource,
        cipher: CredentialCipher,
        logger: LoggerProtocol,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._source = source
        self._cipher = cipher
        self._logger = logger
        self._clock = clock

    async def handle(self, command: ConnectLiveSource) -> Result[ProviderConnection, Error]:
        note = self.audits.note(
            command.context, actor_id=command.user_id, provider=command.provider[:32]
        )
        if command.provider not in LIVE_PROVIDERS:
            known = ", ".join(slug.value for slug in LIVE_PROVIDERS)
            refused = ValidationError(
                f"provider {quoted(command.provider)} takes no setup token (live: {known})",
                code="not_a_live_provider",
                details={"field": "provider"},
            )
            return await self._runner.refuse(note, refused)
        claimed = await self._source.claim(command.setup_token.strip())
        if isinstance(claimed, Failure):
            return await self._runner.refuse(note, _claim_failure(claimed.error))
        provider = ProviderSlug(command.provider)
        label = command.label.strip()[:MAX_LABEL_LENGTH] or provider.value
        connection = ProviderConnection(
            user_id=command.user_id,
            provider=provider,
            label=label,
            next_sync_at=self._clock(),  # due at once: the worker's first sync
        )
        result = await self._runner.run(
            note, lambda uow: self._create(uow, connection, claimed.value, note)
        )
        if isinstance(result, Failure):
            # The token is spent and its access is gone with the transaction.
            self._logger.warning("live_access_discarded", code=result.error.code)
        return result

    async def _create(
        self,
        uow: UnitOfWork,
        connection: ProviderConnection,
        grant: AccessGrant,
        note: AuditNote,
    ) -> Result[ProviderConnection, Error]:
        added = await uow.connections.add(connection)
        if isinstance(added, Failure):
            return added
        sealed = self._cipher.seal(
            grant.access_url.reveal(), context=credentials_context(connection.id)
        )
        stored = await uow.sync_state.store_credentials(connection.id, sealed)
        if isinstance(stored, Failure):
            return stored
        uow.raise_event(
            ProviderConnected(
                user_id=connection.user_id,
                connection_id=connection.id,
                provider=connection.provider.value,
            )
        )
        note.on_success(resource=(ResourceType.PROVIDER_CONNECTION, connection.id))
        return added


def _claim_failure(error: Error) -> Error:
    """Every way a claim fails is the token's problem to the user: a 422 on ``setup_token``."""
    if isinstance(error, ValidationError):
        return ValidationError(error.message, code=error.code, details={"field": "setup_token"})
    return ValidationError(
        f"the SimpleFIN server could not be used to claim the token: {error.message}",
        code=error.code,
        details={"field": "setup_token"},
    )
