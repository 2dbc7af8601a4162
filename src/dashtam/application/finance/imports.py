"""Importing a bank export file: parse off the event loop, then upsert in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from dashtam.application.failures import record_failure
from dashtam.application.finance.commands import ImportReport, ImportStatement
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot, mask_account_number
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParserFactory,
    StatementPart,
)
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.events import StatementImported
from dashtam.domain.transactions.repository import UpsertCounts

BATCH_SIZE = 1000


class ImportStatementHandler:
    """All or nothing: a file that fails anywhere leaves no row behind."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        parsers: ParserFactory,
        logger: LoggerProtocol,
        limits: ImportLimits | None = None,
        batch_size: int = BATCH_SIZE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._parsers = parsers
        self._logger = logger
        self._limits = limits or ImportLimits()
        self._batch_size = batch_size
        self._clock = clock

    async def handle(self, command: ImportStatement) -> Result[ImportReport, Error]:
        async with self._uow_factory() as uow:
            loaded = await uow.connections.get_owned(command.user_id, command.connection_id)
            if isinstance(loaded, Failure):
                return await self._fail(uow, command, loaded.error)
            connection = loaded.value
            if connection is None:  # missing, or another user's: reported alike
                return await self._fail(uow, command, NotFoundError("connection not found"))
            if not connection.is_active:
                error = ConflictError(
                    "the connection is disconnected", code="connection_disconnected"
                )
                return await self._fail(uow, command, error)
        chosen = self._parsers.parser_for(connection.provider.value, command.csv)
        if isinstance(chosen, Failure):
            return await self._fail(None, command, chosen.error)
        parser = chosen.value
        parts = parser.stream(command.data, limits=self._limits, batch_size=self._batch_size)
        now = self._clock()

        async with self._uow_factory() as uow:
            seen: dict[str, Account] = {}
            balanced: set[str] = set()
            created = snapshots = 0
            counts = UpsertCounts()
            while True:
                # Parsing is CPU-bound: each batch is read in a worker thread, so the event loop
                # keeps serving; only one batch of parsed rows is in memory at a time.
                next_part = await asyncio.to_thread(next, parts, None)
                if next_part is None:
                    break
                if isinstance(next_part, Failure):
                    # All or nothing: the rows written so far are rolled back with the rest.
                    return await self._fail(uow, command, next_part.error)
                part = next_part.value
                key = part.account.provider_account_id
                account = seen.get(key)
                # Written when first met, and once more if a later part brings its balance
                # (a CSV's closing balance); not again for every batch of transactions.
                if account is None or (part.account.balance is not None and key not in balanced):
                    stored = await self._account(
                        uow, command, connection.id, connection.label, part, parser.format, now
                    )
                    if isinstance(stored, Failure):
                        return await self._fail(uow, command, stored.error)
                    account, was_created, snapshot_added = stored.value
                    if key not in seen:
                        seen[key] = account
                        created += was_created
                    if part.account.balance is not None:
                        balanced.add(key)
                    snapshots += snapshot_added
                written = await uow.transactions.upsert_batch(
                    account.id, account.currency, part.transactions
                )
                if isinstance(written, Failure):
                    return await self._fail(uow, command, written.error)
                counts = counts + written.value
                if command.progress is not None:
                    command.progress(part.done, part.total)
            stamped = await uow.connections.record_import(connection.id, now=now)
            if isinstance(stamped, Failure):
                return await self._fail(uow, command, stamped.error)
            report = ImportReport(
                connection_id=connection.id,
                format=parser.format,
                accounts_created=created,
                accounts_updated=len(seen) - created,
                transactions_new=counts.new,
                transactions_updated=counts.updated,
                transactions_unchanged=counts.unchanged,
                balance_snapshots_added=snapshots,
            )
            uow.raise_event(
                StatementImported(
                    user_id=command.user_id,
                    connection_id=connection.id,
                    transactions_new=counts.new,
                    transactions_updated=counts.updated,
                )
            )
            uow.audit(self._entry(command.context, command, AuditOutcome.SUCCEEDED, None, report))
            committed = await uow.commit()
            if isinstance(committed, Failure):
                return await self._fail(uow, command, committed.error)
        self._logger.info(
            "statement_imported",
            connection_id=str(connection.id),
            new=counts.new,
            updated=counts.updated,
            unchanged=counts.unchanged,
        )
        return Success(report)

    @staticmethod
    async def _account(
        uow: UnitOfWork,
        command: ImportStatement,
        connection_id: UUID,
        label: str,
        part: StatementPart,
        file_format: str,
        now: datetime,
    ) -> Result[tuple[Account, bool, bool], Error]:
        """Create or update the part's account (and its balance snapshot, once known)."""
        parsed = part.account
        upserted = await uow.accounts.upsert(
            AccountUpsert(
                user_id=command.user_id,
                connection_id=connection_id,
                provider_account_id=parsed.provider_account_id,
                name=parsed.name or (label if file_format == "csv" else _default_name(parsed)),
                account_type=parsed.account_type,
                currency=parsed.currency,
                balance=parsed.balance,
                balance_as_of=parsed.balance_as_of,
            )
        )
        if isinstance(upserted, Failure):
            return upserted
        account, created = upserted.value
        if account.currency != parsed.currency:
            return Failure(
                ConflictError(
                    f"account {account.masked_number} is in {account.currency}, "
                    f"the file says {parsed.currency}",
                    code="currency_mismatch",
                )
            )
        snapshot_added = False
        if parsed.balance is not None:
            added = await uow.accounts.add_snapshot(
                BalanceSnapshot(
                    account_id=account.id,
                    balance=parsed.balance,
                    as_of=parsed.balance_as_of or now,
                )
            )
            if isinstance(added, Failure):
                return added
            snapshot_added = added.value
        return Success((account, created, snapshot_added))

    async def _fail(
        self, uow: UnitOfWork | None, command: ImportStatement, error: Error
    ) -> Failure[Error]:
        entry = self._entry(command.context, command, AuditOutcome.FAILED, error.code, None)
        if "location" in error.details:  # where in the file, e.g. "line 12" or "STMTTRN #3"
            entry = replace(
                entry,
                metadata={**entry.metadata, "location": str(error.details["location"])[:200]},
            )
        await record_failure(self._uow_factory, uow, entry)
        self._logger.info("statement_import_failed", code=error.code)
        return Failure(error)

    @staticmethod
    def _entry(
        context: AuditContext,
        command: ImportStatement,
        outcome: AuditOutcome,
        reason: str | None,
        report: ImportReport | None,
    ) -> AuditEntry:
        metadata: dict[str, object] = {
            "filename": (command.filename or "")[:200] or None,
            "bytes": len(command.data),
        }
        if report is not None:
            metadata.update(
                format=report.format,
                transactions_new=report.transactions_new,
                transactions_updated=report.transactions_updated,
                transactions_unchanged=report.transactions_unchanged,
            )
        return AuditEntry.of(
            context,
            action=(
                AuditAction.IMPORT_SUCCEEDED
                if outcome is AuditOutcome.SUCCEEDED
                else AuditAction.IMPORT_FAILED
            ),
            outcome=outcome,
            resource_type=ResourceType.PROVIDER_CONNECTION,
            resource_id=command.connection_id,
            actor_id=command.user_id,
            reason=reason,
            metadata=metadata,
        )


def _default_name(account: ParsedAccount) -> str:
    kind = account.account_type.value.replace("_", " ").title()
    return f"{kind} {mask_account_number(account.provider_account_id)}"
