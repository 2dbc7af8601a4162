"""Writing a statement's parts into a connection: accounts, balances, transactions, positions.

Shared by file imports and live syncs: the caller owns the unit of work (one transaction for
the whole statement) and its audit record; this writes the rows and reports what it did.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from dashtam.application.finance.commands import ImportReport
from dashtam.application.finance.investment_writes import InvestmentWrites
from dashtam.application.finance.reconcile import ImportReconciler
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot, mask_account_number
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.imports.statement import ParsedAccount, StatementPart
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.repository import UpsertCounts

Parts = Iterator[Result[StatementPart, ValidationError]]


@dataclass(frozen=True, slots=True)
class WrittenStatement:
    report: ImportReport
    # Per account of the statement: its stored row, and the transaction ids the statement held.
    accounts: dict[str, Account]
    seen: dict[UUID, set[str]]


class StatementWriter:
    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self._clock = clock

    async def write(
        self,
        uow: UnitOfWork,
        *,
        user_id: UUID,
        connection: ProviderConnection,
        file_format: str,
        parts: Parts,
        progress: Callable[[int, int], None] | None = None,
    ) -> Result[ImportReport, Error]:
        written = await self.write_all(
            uow,
            user_id=user_id,
            connection=connection,
            file_format=file_format,
            parts=parts,
            progress=progress,
        )
        return written.map(lambda done: done.report)

    async def write_all(
        self,
        uow: UnitOfWork,
        *,
        user_id: UUID,
        connection: ProviderConnection,
        file_format: str,
        parts: Parts,
        progress: Callable[[int, int], None] | None = None,
    ) -> Result[WrittenStatement, Error]:
        """Every part of the file, in order; the first failure ends it (and rolls all back)."""
        now = self._clock()
        tally = _Tally(investments=InvestmentWrites(user_id=user_id))
        reconciler = ImportReconciler()
        reader = _ReadAhead(parts)
        try:
            written = await self._write_parts(
                uow, user_id, connection, file_format, reader, tally, reconciler, progress, now
            )
        finally:
            await reader.close()
        if isinstance(written, Failure):
            return written
        # Before the commit, with the whole file read: pending rows posted, transfers linked.
        settled = await reconciler.finish(uow, user_id)
        if isinstance(settled, Failure):
            return settled
        tally.counts = tally.counts + settled.value.counts
        for event in tally.investments.events():
            uow.raise_event(event)
        return Success(
            WrittenStatement(
                report=tally.report(connection.id, file_format),
                accounts=dict(tally.accounts),
                seen=reconciler.seen_ids(),
            )
        )

    async def _write_parts(
        self,
        uow: UnitOfWork,
        user_id: UUID,
        connection: ProviderConnection,
        file_format: str,
        reader: _ReadAhead,
        tally: _Tally,
        reconciler: ImportReconciler,
        progress: Callable[[int, int], None] | None,
        now: datetime,
    ) -> Result[None, Error]:
        while (next_part := await reader.take()) is not None:
            if isinstance(next_part, Failure):
                return next_part
            part = next_part.value
            account = tally.accounts.get(part.account.provider_account_id)
            if account is None or tally.brings_balance(part):
                stored = await self._account(
                    uow, user_id, connection.id, connection.label, part, file_format, now
                )
                if isinstance(stored, Failure):
                    return stored
                account = tally.account_written(part, *stored.value)
            written = await reconciler.write(
                uow,
                account,
                part.transactions,
                statement_as_of=part.account.statement_end,
                new_account=account.id in tally.new_accounts,
            )
            if isinstance(written, Failure):
                return written
            invested = await tally.investments.write(uow, account, part)
            if isinstance(invested, Failure):
                return invested
            tally.batch_written(part, written.value)
            if progress is not None:
                progress(part.done, part.total)
        return Success(None)

    @staticmethod
    async def _account(
        uow: UnitOfWork,
        user_id: UUID,
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
                user_id=user_id,
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


class _ReadAhead:
    """Parts are parsed in a worker thread (parsing is CPU-bound: the event loop keeps
    serving), one part ahead: the next part is read while the current one is written, so
    the database's work and the parsing overlap. At most two parts are in memory."""

    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        self._next: asyncio.Future[Result[StatementPart, ValidationError] | None] | None = None

    async def take(self) -> Result[StatementPart, ValidationError] | None:
        """The next part; None once every part was read."""
        if self._next is None:
            self._next = self._read()
        part = await self._next
        # A failure ends the import: nothing after it is read.
        self._next = self._read() if isinstance(part, Success) else None
        return part

    async def close(self) -> None:
        """Wait for a part still being read (the thread cannot be stopped), and drop it."""
        pending, self._next = self._next, None
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)

    def _read(self) -> asyncio.Future[Result[StatementPart, ValidationError] | None]:
        return asyncio.ensure_future(asyncio.to_thread(next, self._parts, None))


@dataclass(slots=True)
class _Tally:
    """What an import has written so far, per account of the file."""

    investments: InvestmentWrites
    accounts: dict[str, Account] = field(default_factory=dict)
    balanced: set[str] = field(default_factory=set)
    new_accounts: set[UUID] = field(default_factory=set)  # created by this import
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
            if created:
                self.new_accounts.add(account.id)
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
