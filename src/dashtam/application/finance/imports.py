"""Importing a bank export file: parse off the event loop, then upsert in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dashtam.application.finance.commands import ImportReport, ImportStatement
from dashtam.application.finance.import_target import ImportTargets
from dashtam.application.finance.statement_writer import StatementWriter
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParserFactory,
)
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.events import StatementImported

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
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._targets = ImportTargets(parsers, limits or ImportLimits(), batch_size)
        self._writer = StatementWriter(clock)
        self._logger = logger
        self._clock = clock

    audits = Audits(
        action=AuditAction.IMPORT_SUCCEEDED,
        failed_action=AuditAction.IMPORT_FAILED,
        resource_type=ResourceType.PROVIDER_CONNECTION,
        failure_event="statement_import_failed",
    )

    async def handle(self, command: ImportStatement) -> Result[ImportReport, Error]:
        note = self.audits.note(
            command.context,
            resource_id=command.connection_id,
            actor_id=command.user_id,
            filename=(command.filename or "")[:200] or None,
            bytes=len(command.data),
        )
        result = await self._runner.run(note, lambda uow: self._import(uow, command, note))
        if isinstance(result, Success):
            self._logger.info(
                "statement_imported",
                connection_id=str(result.value.connection_id),
                new=result.value.transactions_new,
                updated=result.value.transactions_updated,
                unchanged=result.value.transactions_unchanged,
            )
        return result

    async def _import(
        self, uow: UnitOfWork, command: ImportStatement, note: AuditNote
    ) -> Result[ImportReport, Error]:
        opened = await self._targets.open(uow, command, note)
        if isinstance(opened, Failure):
            return opened
        connection, parser, parts = opened.value.connection, opened.value.parser, opened.value.parts
        written = await self._writer.write(
            uow,
            user_id=command.user_id,
            connection=connection,
            file_format=parser.format,
            parts=parts,
            progress=command.progress,
        )
        if isinstance(written, Failure):
            return written
        report = written.value
        stamped = await uow.connections.record_import(connection.id, now=self._clock())
        if isinstance(stamped, Failure):
            return stamped
        uow.raise_event(
            StatementImported(
                user_id=command.user_id,
                connection_id=connection.id,
                transactions_new=report.transactions_new,
                transactions_updated=report.transactions_updated,
            )
        )
        note.on_success(
            format=report.format,
            transactions_new=report.transactions_new,
            transactions_updated=report.transactions_updated,
            transactions_unchanged=report.transactions_unchanged,
        )
        if report.transactions_outdated:
            note.on_success(transactions_outdated=report.transactions_outdated)
        if report.skipped:
            note.on_success(skipped=dict(report.skipped))
        return Success(report)
