"""Connections and accounts: create, disconnect (optionally purging data), delete."""

from __future__ import annotations

from uuid import UUID

from dashtam.application.failures import record_failure
from dashtam.application.finance.commands import (
    CreateConnection,
    DeleteAccount,
    DisconnectConnection,
)
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.errors import Error, NotFoundError, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import ProviderConnected, ProviderDisconnected

MAX_LABEL_LENGTH = 100


def _entry(
    context: AuditContext,
    action: AuditAction,
    outcome: AuditOutcome,
    resource_type: ResourceType,
    resource_id: UUID | None,
    reason: str | None = None,
    metadata: dict[str, object] | None = None,
) -> AuditEntry:
    return AuditEntry.of(
        context,
        action=action,
        outcome=outcome,
        resource_type=resource_type,
        resource_id=resource_id,
        reason=reason,
        metadata=metadata,
    )


class CreateConnectionHandler:
    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def handle(self, command: CreateConnection) -> Result[ProviderConnection, Error]:
        action = AuditAction.CONNECTION_CREATED
        kind = ResourceType.PROVIDER_CONNECTION
        try:
            provider = ProviderSlug(command.provider)
        except ValueError:
            known = ", ".join(slug.value for slug in ProviderSlug)
            error = ValidationError(
                f"unknown provider {command.provider!r} (known: {known})",
                code="unknown_provider",
                details={"field": "provider"},
            )
            await record_failure(
                self._uow_factory,
                None,
                _entry(command.context, action, AuditOutcome.FAILED, kind, None, error.code),
            )
            return Failure(error)
        label = command.label.strip()[:MAX_LABEL_LENGTH] or provider.value
        connection = ProviderConnection(user_id=command.user_id, provider=provider, label=label)
        async with self._uow_factory() as uow:
            added = await uow.connections.add(connection)
            if isinstance(added, Failure):
                entry = _entry(
                    command.context, action, AuditOutcome.FAILED, kind, None, added.error.code
                )
                await record_failure(self._uow_factory, uow, entry)
                return added
            uow.raise_event(
                ProviderConnected(
                    user_id=command.user_id, connection_id=connection.id, provider=provider.value
                )
            )
            uow.audit(
                _entry(
                    command.context,
                    action,
                    AuditOutcome.SUCCEEDED,
                    kind,
                    connection.id,
                    metadata={"provider": provider.value},
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                entry = _entry(
                    command.context, action, AuditOutcome.FAILED, kind, None, committed.error.code
                )
                await record_failure(self._uow_factory, uow, entry)
                return committed
        return Success(added.value)


class DisconnectConnectionHandler:
    """Marks the connection disconnected; with ``purge`` its accounts and transactions go too."""

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def handle(self, command: DisconnectConnection) -> Result[None, Error]:
        async with self._uow_factory() as uow:
            loaded = await uow.connections.get_owned(command.user_id, command.connection_id)
            if isinstance(loaded, Failure):
                return await self._fail(uow, command, loaded.error)
            connection = loaded.value
            if connection is None:
                return await self._fail(uow, command, NotFoundError("connection not found"))
            if not connection.is_active and not command.purge:
                return Success(None)  # already disconnected: nothing changes, nothing to tell
            purged = 0
            if command.purge:
                deleted = await uow.accounts.delete_for_connection(connection.id)
                if isinstance(deleted, Failure):
                    return await self._fail(uow, command, deleted.error)
                purged = deleted.value
            connection.status = ConnectionStatus.DISCONNECTED
            updated = await uow.connections.update(connection)
            if isinstance(updated, Failure):
                return await self._fail(uow, command, updated.error)
            uow.raise_event(
                ProviderDisconnected(
                    user_id=command.user_id, connection_id=connection.id, purged=command.purge
                )
            )
            uow.audit(
                _entry(
                    command.context,
                    AuditAction.CONNECTION_DISCONNECTED,
                    AuditOutcome.SUCCEEDED,
                    ResourceType.PROVIDER_CONNECTION,
                    connection.id,
                    metadata={"purge": command.purge, "accounts_deleted": purged},
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command, committed.error)
        return Success(None)

    async def _fail(
        self, uow: UnitOfWork, command: DisconnectConnection, error: Error
    ) -> Failure[Error]:
        entry = _entry(
            command.context,
            AuditAction.CONNECTION_DISCONNECTED,
            AuditOutcome.FAILED,
            ResourceType.PROVIDER_CONNECTION,
            command.connection_id,
            error.code,
        )
        await record_failure(self._uow_factory, uow, entry)
        return Failure(error)


class DeleteAccountHandler:
    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def handle(self, command: DeleteAccount) -> Result[None, Error]:
        async with self._uow_factory() as uow:
            loaded = await uow.accounts.get_owned(command.user_id, command.account_id)
            if isinstance(loaded, Failure):
                return await self._fail(uow, command, loaded.error)
            account = loaded.value
            if account is None:
                return await self._fail(uow, command, NotFoundError("account not found"))
            deleted = await uow.accounts.delete(account.id)
            if isinstance(deleted, Failure):
                return await self._fail(uow, command, deleted.error)
            uow.raise_event(AccountDeleted(user_id=command.user_id, account_id=account.id))
            uow.audit(
                _entry(
                    command.context,
                    AuditAction.ACCOUNT_DELETED,
                    AuditOutcome.SUCCEEDED,
                    ResourceType.ACCOUNT,
                    account.id,
                    metadata={"account": account.masked_number},
                )
            )
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command, committed.error)
        return Success(None)

    async def _fail(self, uow: UnitOfWork, command: DeleteAccount, error: Error) -> Failure[Error]:
        entry = _entry(
            command.context,
            AuditAction.ACCOUNT_DELETED,
            AuditOutcome.FAILED,
            ResourceType.ACCOUNT,
            command.account_id,
            error.code,
        )
        await record_failure(self._uow_factory, uow, entry)
        return Failure(error)
