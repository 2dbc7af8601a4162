"""Which connection an import writes into, decided in the transaction that writes.

An import names its connection, or asks for one to be found or created (the command line):
the connection that already holds the file's account is reused, so a statement imported
again lands where it did before; otherwise a new connection is created with the import and
exists only if the import succeeds. When neither is certain (another connection of the same
kind exists, and the file's account is not in it) the import is refused with the choices,
never merged into another bank's accounts.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from dashtam.application.finance.commands import ImportStatement, NewConnection
from dashtam.application.finance.handlers import MAX_LABEL_LENGTH, CreateConnectionHandler
from dashtam.application.lifecycle import AuditNote, found
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import ConflictError, Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.audit import ResourceType
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParserFactory,
    StatementParser,
    StatementPart,
)
from dashtam.domain.providers.entities import ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import ProviderConnected

Parts = Iterator[Result[StatementPart, ValidationError]]


@dataclass(frozen=True, slots=True)
class ImportTarget:
    connection: ProviderConnection
    parser: StatementParser
    parts: Parts


@dataclass(frozen=True, slots=True)
class ImportTargets:
    parsers: ParserFactory
    limits: ImportLimits
    batch_size: int

    async def open(
        self, uow: UnitOfWork, command: ImportStatement, note: AuditNote
    ) -> Result[ImportTarget, Error]:
        if command.new_connection is not None:
            return await self._found_or_new(uow, command, command.new_connection, note)
        if command.connection_id is None:
            raise ValueError("an import names its connection or asks for one")
        loaded = found(
            await uow.connections.get_owned(command.user_id, command.connection_id), "connection"
        )
        if isinstance(loaded, Failure):  # missing, or another user's: reported alike
            return loaded
        connection = loaded.value
        if not connection.is_active:
            return Failure(
                ConflictError("the connection is disconnected", code="connection_disconnected")
            )
        if connection.is_live:
            return Failure(
                ConflictError(
                    "this connection syncs by itself from its provider; it takes no files",
                    code="live_connection_takes_no_files",
                )
            )
        chosen = self._parser(connection.provider, command)
        if isinstance(chosen, Failure):
            return chosen
        parts = chosen.value.stream(command.data, limits=self.limits, batch_size=self.batch_size)
        return Success(ImportTarget(connection, chosen.value, parts))

    async def _found_or_new(
        self, uow: UnitOfWork, command: ImportStatement, wanted: NewConnection, note: AuditNote
    ) -> Result[ImportTarget, Error]:
        provider = self._provider(wanted, command.data)
        if isinstance(provider, Failure):
            return provider
        chosen = self._parser(provider.value, command)
        if isinstance(chosen, Failure):
            return chosen
        parser = chosen.value
        parts = parser.stream(command.data, limits=self.limits, batch_size=self.batch_size)
        first = await asyncio.to_thread(next, parts, None)
        if isinstance(first, Failure):
            return first
        # A CSV names its account only when the caller did: "main" would match any bank.
        names_its_account = parser.format != "csv" or command.csv.account is not None
        account_key = (
            first.value.account.provider_account_id
            if first is not None and names_its_account
            else None
        )
        connection = await self._connection(uow, command, wanted, provider.value, account_key)
        if isinstance(connection, Failure):
            return connection
        note.resource_id = connection.value.id
        rest: Parts = itertools.chain([first], parts) if first is not None else parts
        return Success(ImportTarget(connection.value, parser, rest))

    async def _connection(
        self,
        uow: UnitOfWork,
        command: ImportStatement,
        wanted: NewConnection,
        provider: ProviderSlug,
        account_key: str | None,
    ) -> Result[ProviderConnection, Error]:
        listed = await uow.connections.list_for_user(command.user_id)
        if isinstance(listed, Failure):
            return listed
        same_kind = [c for c in listed.value if c.provider is provider and c.is_active]
        if account_key is not None and same_kind and wanted.only_if_first:
            accounts = await uow.accounts.list_for_user(command.user_id)
            if isinstance(accounts, Failure):
                return accounts
            holders = {
                a.connection_id for a in accounts.value if a.provider_account_id == account_key
            }
            holding = [c for c in same_kind if c.id in holders]
            if len(holding) == 1:
                return Success(holding[0])  # the file's account is already there
        if same_kind and wanted.only_if_first:
            return Failure(_say_which(provider, same_kind, knows_account=account_key is not None))
        return await _create(uow, command, wanted, provider)

    def _provider(self, wanted: NewConnection, data: bytes) -> Result[ProviderSlug, Error]:
        name = wanted.provider or self.parsers.provider_for(data)
        if name is None:
            return Failure(
                ValidationError(
                    "the file is neither an OFX/QFX/QBO statement nor a CSV export",
                    code="unknown_format",
                )
            )
        try:
            return Success(ProviderSlug(name))
        except ValueError:
            return Failure(
                ValidationError(f"unknown provider {quoted(name)}", code="unknown_provider")
            )

    def _parser(
        self, provider: ProviderSlug, command: ImportStatement
    ) -> Result[StatementParser, ValidationError]:
        return self.parsers.parser_for(provider.value, command.csv, data=command.data)


async def _create(
    uow: UnitOfWork, command: ImportStatement, wanted: NewConnection, provider: ProviderSlug
) -> Result[ProviderConnection, Error]:
    """A connection that commits (and is audited, and announced) only with the import."""
    label = wanted.label.strip()[:MAX_LABEL_LENGTH] or provider.value
    connection = ProviderConnection(user_id=command.user_id, provider=provider, label=label)
    added = await uow.connections.add(connection)
    if isinstance(added, Failure):
        return added
    uow.raise_event(
        ProviderConnected(
            user_id=command.user_id, connection_id=connection.id, provider=provider.value
        )
    )
    created = CreateConnectionHandler.audits.note(
        command.context, actor_id=command.user_id, provider=provider.value
    )
    created.on_success(resource=(ResourceType.PROVIDER_CONNECTION, connection.id))
    if (entry := created.succeeded()) is not None:
        uow.audit(entry)
    return added


def _say_which(
    provider: ProviderSlug, existing: list[ProviderConnection], *, knows_account: bool
) -> ConflictError:
    listed = ", ".join(f"{c.id} ({quoted(c.label)})" for c in existing)
    where = (
        f"the file's account is in none of your {provider.value} connections"
        if knows_account
        else f"you already have {provider.value} connections"
    )
    return ConflictError(
        f"{where} ({listed}): say which connection the file belongs to, or ask for a new one",
        code="connection_required",
        details={"connections": [str(c.id) for c in existing]},
    )
