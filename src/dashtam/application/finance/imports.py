"""Importing a bank export file: parse off the event loop, then upsert in one transaction."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from dashtam.application.finance.commands import ImportReport, ImportStatement
from dashtam.application.finance.import_target import ImportTargets
from dashtam.application.finance.investment_writes import InvestmentWrites
from dashtam.application.finance.reconcile import ImportReconciler
from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot, mask_account_number
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.audit import AuditAction, ResourceType
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParserFactory,
    StatementPart,
)
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.entities import ProviderConnection
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
        self._runner = UseCaseRunner(uow_factory, logger=logger)
        self._targets = ImportTargets(parsers, limits or ImportLimits(), batch_size)
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
        written = await self._write(uow, command, connection, parser.format, parts)
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

    async def _write(
        self,
        uow: UnitOfWork,
        command: ImportStatement,
        connection: ProviderConnection,
        file_format: str,
        parts: Iterator[Result[StatementPart, ValidationError]],
    ) -> Result[ImportReport, Error]:
        """Every part of the file, in order; the first failure ends it (and rolls all back)."""
        now = self._clock()
        tally = _Tally(investments=InvestmentWrites(user_id=command.user_id))
        reconciler = ImportReconciler()
        while True:
            # Parsing is CPU-bound: each batch is read in a worker thread, so the event loop
            # keeps serving; only one batch of parsed rows is in memory at a time.
            next_part = await asyncio.to_thread(next, parts, None)
            if next_part is None:
                break
            if isinstance(next_part, Failure):
                return next_part
            part = next_part.value
            account = tally.accounts.get(part.account.provider_account_id)
            if account is None or tally.brings_balance(part):
                stored = await self._account(
                    uow, command, connection.id, connection.label, part, file_format, now
                )
                if isinstance(stored, Failure):
                    return stored
                account = tally.account_written(part, *stored.value)
            written = await reconciler.write(
                uow, account, part.transactions, statement_as_of=part.account.statement_end
            )
            if isinstance(written, Failure):
                return written
            invested = await tally.investments.write(uow, account, part)
            if isinstance(invested, Failure):
                return invested
            tally.batch_written(part, written.value)
            if command.progress is not None:
                command.progress(part.done, part.total)
        # Before the commit, with the whole file read: pending rows posted, transfers linked.
        settled = await reconciler.finish(uow, command.user_id)
        if isinstance(settled, Failure):
            return settled
        tally.counts = tally.counts + settled.value.counts
        for event in tally.investments.events():
            uow.raise_event(event)
        return Success(tally.report(connection.id, file_format))

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
                available_balance=parsed.available_balance,
                available_balance_as_of=parsed.available_balance_as_of,
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


@dataclass(slots=True)
class _Tally:
    """What an import has written so far, per account of the file."""

    investments: InvestmentWrites
    accounts: dict[str, Account] = field(default_factory=dict)
    balanced: set[str] = field(default_factory=set)
    created: int = 0
    snapshots: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    skipped: Counter[str] = field(default_factory=Counter)

    def brings_balance(self, part: StatementPart) -> bool:
        """An account is written when first met, and once more if a later part brings its
        balance (a statement's closing balance); not again for every batch."""
        parsed = part.account
        has_one = parsed.balance is not None or parsed.available_balance is not None
        return has_one and parsed.provider_account_id not in self.balanced

    def account_written(
        self, part: StatementPart, account: Account, created: bool, snapshot_added: bool
    ) -> Account:
        key = part.account.provider_account_id
        if key not in self.accounts:
            self.accounts[key] = account
            self.created += created
        if part.account.balance is not None or part.account.available_balance is not None:
            self.balanced.add(key)
        self.snapshots += snapshot_added
        return account

    def batch_written(self, part: StatementPart, counts: UpsertCounts) -> None:
        self.counts = self.counts + counts
        self.skipped.update(part.skipped)

    def report(self, connection_id: UUID, file_format: str) -> ImportReport:
        return ImportReport(
            connection_id=connection_id,
            format=file_format,
            accounts_created=self.created,
            accounts_updated=len(self.accounts) - self.created,
            transactions_new=self.counts.new,
            transactions_updated=self.counts.updated,
            transactions_unchanged=self.counts.unchanged,
            transactions_outdated=self.counts.outdated,
            balance_snapshots_added=self.snapshots,
            skipped=dict(self.skipped),
            holdings_added=self.investments.holdings_added,
            investment_transactions_new=self.investments.counts.new,
            investment_transactions_updated=self.investments.counts.updated,
            investment_transactions_unchanged=self.investments.counts.unchanged,
            investment_transactions_outdated=self.investments.counts.outdated,
        )


def _default_name(account: ParsedAccount) -> str:
    kind = account.account_type.value.replace("_", " ").title()
    return f"{kind} {mask_account_number(account.provider_account_id)}"
