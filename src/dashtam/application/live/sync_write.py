"""The write of a sync: one transaction for everything the source answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dashtam.application.finance.commands import ImportReport
from dashtam.application.finance.statement_writer import StatementWriter
from dashtam.application.lifecycle import AuditNote
from dashtam.application.live import outcomes
from dashtam.application.live.commands import SyncReport
from dashtam.application.live.parts import SyncParts
from dashtam.application.live.policy import SyncPolicy
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.providers.events import SyncCompleted

SYNC_FORMAT = "simplefin"


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncWrite:
    connection: ProviderConnection
    parts: SyncParts
    messages: tuple[str, ...]
    window: tuple[datetime, datetime]
    requests: int
    now: datetime
    policy: SyncPolicy

    async def run(self, uow: UnitOfWork, note: AuditNote) -> Result[SyncReport, Error]:
        connection = self.connection
        written = await StatementWriter(lambda: self.now).write_all(
            uow,
            user_id=connection.user_id,
            connection=connection,
            file_format=SYNC_FORMAT,
            parts=iter([Success(part) for part in self.parts.parts]),
        )
        if isinstance(written, Failure):
            return written
        removed = 0
        for account in written.value.accounts.values():
            # Pending rows the source no longer lists are gone at the source: remove them.
            gone = await uow.transactions.remove_pending(
                account.id, keep=written.value.seen.get(account.id, set())
            )
            if isinstance(gone, Failure):
                return gone
            removed += gone.value
        outcome, attention = outcomes.succeeded(
            connection, self.messages, now=self.now, policy=self.policy
        )
        saved = await uow.sync_state.save_outcome(connection.id, outcome)
        if isinstance(saved, Failure):
            return saved
        report = self._report(written.value.report, removed, outcome.status)
        uow.raise_event(
            SyncCompleted(
                user_id=connection.user_id,
                connection_id=connection.id,
                accounts=report.accounts,
                transactions_new=report.transactions_new,
                transactions_updated=report.transactions_updated,
                transactions_removed=removed,
            )
        )
        if attention is not None:
            uow.raise_event(attention)
        note.on_success(
            accounts=report.accounts,
            transactions_new=report.transactions_new,
            transactions_updated=report.transactions_updated,
            transactions_removed=removed,
            status=outcome.status,
        )
        return Success(report)

    def _report(self, imported: ImportReport, removed: int, status: str) -> SyncReport:
        return SyncReport(
            connection_id=self.connection.id,
            status=status,
            window_start=self.window[0],
            window_end=self.window[1],
            requests=self.requests,
            accounts=imported.accounts_created + imported.accounts_updated,
            transactions_new=imported.transactions_new,
            transactions_updated=imported.transactions_updated,
            transactions_unchanged=imported.transactions_unchanged,
            transactions_removed=removed,
            balance_snapshots_added=imported.balance_snapshots_added,
            holdings_added=imported.holdings_added,
            messages=self.messages,
            skipped={**imported.skipped, **self.parts.skipped},
        )
