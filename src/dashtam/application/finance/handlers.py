"""Connections and accounts: create, disconnect (optionally purging data), delete."""

from __future__ import annotations

from dashtam.application.finance.commands import (
    CreateConnection,
    DeleteAccount,
    DisconnectConnection,
)
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner, found
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import ProviderConnected, ProviderDisconnected

MAX_LABEL_LENGTH = 100


class CreateConnectionHandler:
    audits = Audits(
        action=AuditAction.CONNECTION_CREATED, resource_type=ResourceType.PROVIDER_CONNECTION
    )

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._runner = UseCaseRunner(uow_factory)

    async def handle(self, command: CreateConnection) -> Result[ProviderConnection, Error]:
        note = self.audits.note(command.context)
        try:
            provider = ProviderSlug(command.provider)
        except ValueError:
            known = ", ".join(slug.value for slug in ProviderSlug)
            error = ValidationError(
                f"unknown provider {quoted(command.provider)} (known: {known})",
                code="unknown_provider",
                details={"field": "provider"},
            )
            return await self._runner.refuse(note, error)
        if provider is ProviderSlug.SIMPLEFIN:
            needed = ValidationError(
                "a simplefin connection needs the setup token from your SimpleFIN Bridge",
                code="setup_token_required",
                details={"field": "setup_token"},
            )
            return await self._runner.refuse(note, needed)
        label = command.label.strip()[:MAX_LABEL_LENGTH] or provider.value
        connection = ProviderConnection(user_id=command.user_id, provider=provider, label=label)

        async def create(uow: UnitOfWork) -> Result[ProviderConnection, Error]:
            added = await uow.connections.add(connection)
            if isinstance(added, Success):
                uow.raise_event(
                    ProviderConnected(
                        user_id=command.user_id,
                        connection_id=connection.id,
                        provider=provider.value,
                    )
                )
                note.on_success(
                    resource=(ResourceType.PROVIDER_CONNECTION, connection.id),
                    provider=provider.value,
                )
            return added

        return await self._runner.run(note, create)


class DisconnectConnectionHandler:
    """Marks the connection disconnected; with ``purge`` its accounts and transactions go too."""

    audits = Audits(
        action=AuditAction.CONNECTION_DISCONNECTED,
        resource_type=ResourceType.PROVIDER_CONNECTION,
    )

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._runner = UseCaseRunner(uow_factory)

    async def handle(self, command: DisconnectConnection) -> Result[None, Error]:
        note = self.audits.note(command.context, resource_id=command.connection_id)
        return await self._runner.run(note, lambda uow: self._disconnect(uow, command, note))

    @staticmethod
    async def _disconnect(
        uow: UnitOfWork, command: DisconnectConnection, note: AuditNote
    ) -> Result[None, Error]:
        loaded = found(
            await uow.connections.get_owned(command.user_id, command.connection_id), "connection"
        )
        if isinstance(loaded, Failure):
            return loaded
        connection = loaded.value
        if not connection.is_active and not command.purge:
            note.nothing_changed()  # already disconnected
            return Success(None)
        purged = 0
        if command.purge:
            deleted = await uow.accounts.delete_for_connection(connection.id)
            if isinstance(deleted, Failure):
                return deleted
            purged = deleted.value
        connection.status = ConnectionStatus.DISCONNECTED
        connection.next_sync_at = None
        updated = await uow.connections.update(connection)
        if isinstance(updated, Failure):
            return updated
        if connection.is_live:
            # A disconnected source is never read again: its access goes with it.
            forgotten = await uow.sync_state.store_credentials(connection.id, None)
            if isinstance(forgotten, Failure):
                return forgotten
        uow.raise_event(
            ProviderDisconnected(
                user_id=command.user_id, connection_id=connection.id, purged=command.purge
            )
        )
        note.on_success(purge=command.purge, accounts_deleted=purged)
        return Success(None)


class DeleteAccountHandler:
    audits = Audits(action=AuditAction.ACCOUNT_DELETED, resource_type=ResourceType.ACCOUNT)

    def __init__(self, *, uow_factory: UnitOfWorkFactory) -> None:
        self._runner = UseCaseRunner(uow_factory)

    async def handle(self, command: DeleteAccount) -> Result[None, Error]:
        note = self.audits.note(command.context, resource_id=command.account_id)

        async def delete(uow: UnitOfWork) -> Result[None, Error]:
            loaded = found(
                await uow.accounts.get_owned(command.user_id, command.account_id), "account"
            )
            if isinstance(loaded, Failure):
                return loaded
            account = loaded.value
            deleted = await uow.accounts.delete(account.id)
            if isinstance(deleted, Success):
                uow.raise_event(AccountDeleted(user_id=command.user_id, account_id=account.id))
                note.on_success(account=account.masked_number)
            return deleted.map(lambda _: None)

        return await self._runner.run(note, delete)
