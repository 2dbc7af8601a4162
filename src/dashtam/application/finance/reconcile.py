"""What an import settles before it commits: a pending row whose posted form arrives becomes
that posted transaction, and transfers between the owner's own accounts are linked.

The rules are the domain's (``domain.transactions.matching``); this module reads the rows they
need and writes their decisions, inside the import's one unit of work.

Whether a stored pending row may be replaced depends on the whole file (a pending row the
file still lists stays pending), and files are read in batches. So a batch row that may be
another form of a stored row -- its id new to the account, a stored row of the other status
near its date that it could be -- is held back, and decided once the file has been read:

* a held posted row takes over the best free pending row (``absorb_pending``): same row id,
  counted ``updated``;
* a held pending row that a stored posted row already stands for -- the account no longer
  holds it because it was replaced, e.g. an old pending file imported again -- is not
  written, and counted ``unchanged`` (no column remembers replaced ids: the rule is "a
  posted row that is not in this file could be its posting and no pending row is left");
* every other held row is written like any other.

Held rows are few (only those with a stored counterpart in reach), so memory stays bounded by
a batch plus the file's ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.matching import (
    POSTED_AFTER_PENDING,
    TRANSFER_DAYS,
    is_linkable,
    is_posting_of,
    match_postings,
    transfer_pairs,
    window,
)
from dashtam.domain.transactions.repository import PendingReplacement, UpsertCounts

# Rows of the file looked at per transfer query (ids in one IN list, amounts in another).
TRANSFER_CHUNK = 500

PENDING = TransactionStatus.PENDING
POSTED = TransactionStatus.POSTED


@dataclass(frozen=True, slots=True)
class _Held:
    item: ParsedTransaction
    statement_as_of: datetime | None


@dataclass(slots=True)
class _AccountImport:
    account_id: UUID
    currency: str
    # Created by this import: it holds only rows the import wrote (ids in ``seen``).
    new: bool = False
    # The file's ids, in file order, with their dates (transfers are looked for by date).
    seen: dict[str, date] = field(default_factory=dict)
    held: dict[str, _Held] = field(default_factory=dict)
    stored: dict[UUID, Transaction] = field(default_factory=dict)  # counterparts in reach
    # The ids this import inserted or updated: only those can have become transfers. A row
    # the import left as it was was looked at when it was written, and any other side that
    # arrived since was linked by the write that brought it.
    written: set[str] = field(default_factory=set)

    def as_row(self, item: ParsedTransaction) -> Transaction:
        return Transaction(
            account_id=self.account_id,
            provider_transaction_id=item.provider_transaction_id,
            amount=item.amount,
            currency=self.currency,
            posted_on=item.posted_on,
            description=item.description,
            status=item.status,
        )


@dataclass(frozen=True, slots=True)
class Reconciled:
    counts: UpsertCounts
    transfers_linked: int


class ImportReconciler:
    """One per import: ``write`` each batch, then ``finish`` once, before the commit."""

    def __init__(self) -> None:
        self._accounts: dict[UUID, _AccountImport] = {}

    async def write(
        self,
        uow: UnitOfWork,
        account: Account,
        batch: Sequence[ParsedTransaction],
        *,
        statement_as_of: datetime | None,
        new_account: bool = False,
    ) -> Result[UpsertCounts, Error]:
        """Upsert the batch, but for the rows held back until ``finish``. ``new_account``: the
        account was created by this import (in its transaction)."""
        state = self._accounts.setdefault(
            account.id, _AccountImport(account.id, account.currency, new=new_account)
        )
        # A new account holds only what this import wrote: a batch row can be stored already
        # only if an earlier batch had its id, so only those are looked up.
        repeated = (
            {i.provider_transaction_id for i in batch if i.provider_transaction_id in state.seen}
            if state.new
            else None
        )
        admitted = await self._admit(uow, state, batch, statement_as_of)
        if isinstance(admitted, Failure):
            return admitted
        return await uow.transactions.upsert_batch(
            account.id,
            account.currency,
            admitted.value,
            statement_as_of=statement_as_of,
            may_be_stored=repeated,
            written=state.written,
        )

    def seen_ids(self) -> dict[UUID, set[str]]:
        """Per account written to: the provider transaction ids the statement held."""
        return {account_id: set(state.seen) for account_id, state in self._accounts.items()}

    async def finish(self, uow: UnitOfWork, user_id: UUID) -> Result[Reconciled, Error]:
        """Decide the held rows of every account, then link the file's transfers."""
        counts = UpsertCounts()
        for state in self._accounts.values():
            settled = await _settle(uow, state)
            if isinstance(settled, Failure):
                return settled
            counts = counts + settled.value
        linked = 0
        for state in self._accounts.values():
            done = await _link_transfers(uow, user_id, state)
            if isinstance(done, Failure):
                return done
            linked += done.value
        return Success(Reconciled(counts, linked))

    async def _admit(
        self,
        uow: UnitOfWork,
        state: _AccountImport,
        batch: Sequence[ParsedTransaction],
        statement_as_of: datetime | None,
    ) -> Result[list[ParsedTransaction], Error]:
        latest = {item.provider_transaction_id: item for item in batch}  # the last one wins
        state.seen.update((key, item.posted_on) for key, item in latest.items())
        for key in latest.keys() & state.held.keys():
            state.held[key] = _Held(latest.pop(key), statement_as_of)
        # A new account's rows are all the file's own: none is another form of a file row.
        found = Success([]) if state.new else await _counterparts(uow, state, list(latest.values()))
        if isinstance(found, Failure):
            return found
        counterparts = found.value
        maybe = (
            [item for item in latest.values() if _may_be_one(state, item, counterparts)]
            if counterparts
            else []
        )
        if maybe:
            known = await uow.transactions.by_provider_ids(
                state.account_id, [item.provider_transaction_id for item in maybe]
            )
            if isinstance(known, Failure):
                return known
            stored_ids = {row.provider_transaction_id for row in known.value}
            for item in maybe:
                if item.provider_transaction_id not in stored_ids:
                    state.held[item.provider_transaction_id] = _Held(item, statement_as_of)
                    del latest[item.provider_transaction_id]
            state.stored.update((row.id, row) for row in counterparts)
        return Success(list(latest.values()))


async def _counterparts(
    uow: UnitOfWork, state: _AccountImport, items: Sequence[ParsedTransaction]
) -> Result[list[Transaction], Error]:
    """Stored rows of the other status that some of ``items`` could be another form of."""
    earliest, latest = POSTED_AFTER_PENDING
    rows: list[Transaction] = []
    for status, wanted, before, after in (
        # A posted item looks for pending rows up to 7 days before it, 3 after; and back.
        (POSTED, PENDING, -latest, -earliest),
        (PENDING, POSTED, earliest, latest),
    ):
        days = [item.posted_on for item in items if item.status is status]
        if not days:
            continue
        start, end = window(days, before, after)
        found = await uow.transactions.in_window(
            state.account_id, status=wanted, start=start, end=end
        )
        if isinstance(found, Failure):
            return found
        # A row this file wrote already is the file's own, not another form of one of its rows.
        rows.extend(row for row in found.value if row.provider_transaction_id not in state.seen)
    return Success(rows)


def _may_be_one(
    state: _AccountImport, item: ParsedTransaction, counterparts: Iterable[Transaction]
) -> bool:
    row = state.as_row(item)
    if item.status is POSTED:
        return any(is_posting_of(row, other) for other in counterparts if other.status is PENDING)
    return any(is_posting_of(other, row) for other in counterparts if other.status is POSTED)


async def _settle(uow: UnitOfWork, state: _AccountImport) -> Result[UpsertCounts, Error]:
    free = [row for row in state.stored.values() if row.provider_transaction_id not in state.seen]
    held = [state.as_row(entry.item) for entry in state.held.values()]
    replaced = match_postings(
        [row for row in free if row.status is PENDING],
        [row for row in held if row.status is POSTED],
    )
    explained = match_postings(
        [row for row in held if row.status is PENDING],
        [row for row in free if row.status is POSTED],
    )
    absorbed = await uow.transactions.absorb_pending(
        [
            PendingReplacement(
                row_id=pending.id,
                posted=state.held[posted.provider_transaction_id].item,
                statement_as_of=state.held[posted.provider_transaction_id].statement_as_of,
            )
            for pending, posted in replaced
        ]
    )
    if isinstance(absorbed, Failure):
        return absorbed
    taken_over = {posted.provider_transaction_id for _, posted in replaced}
    state.written |= taken_over  # the pending rows they took over now hold these ids
    decided = taken_over | {pending.provider_transaction_id for pending, _ in explained}
    counts = UpsertCounts(updated=absorbed.value, unchanged=len(explained))
    by_statement: dict[datetime | None, list[ParsedTransaction]] = {}
    for key, entry in state.held.items():
        if key not in decided:
            by_statement.setdefault(entry.statement_as_of, []).append(entry.item)
    for statement_as_of, items in by_statement.items():
        written = await uow.transactions.upsert_batch(
            state.account_id,
            state.currency,
            items,
            statement_as_of=statement_as_of,
            written=state.written,
        )
        if isinstance(written, Failure):
            return written
        counts = counts + written.value
    return Success(counts)


async def _link_transfers(
    uow: UnitOfWork, user_id: UUID, state: _AccountImport
) -> Result[int, Error]:
    """The rows this import wrote to the account against all of the user's, a chunk at a time.

    Chunks follow the rows' dates, not the file's order: a chunk's candidates are then looked
    for in a few days of the user's rows, however the file is sorted."""
    # The other side of a transfer is in another account of the owner, in the same currency.
    if not state.written:
        return Success(0)
    accounts = await uow.accounts.list_for_user(user_id)
    if isinstance(accounts, Failure):
        return accounts
    if not any(a.id != state.account_id and a.currency == state.currency for a in accounts.value):
        return Success(0)
    keys = sorted(state.written, key=lambda key: (state.seen[key], key))
    linked = 0
    for first in range(0, len(keys), TRANSFER_CHUNK):
        rows = await uow.transactions.by_provider_ids(
            state.account_id, keys[first : first + TRANSFER_CHUNK]
        )
        if isinstance(rows, Failure):
            return rows
        done = await _link_chunk(uow, user_id, state, [r for r in rows.value if is_linkable(r)])
        if isinstance(done, Failure):
            return done
        linked += done.value
    return Success(linked)


async def _link_chunk(
    uow: UnitOfWork, user_id: UUID, state: _AccountImport, sources: Sequence[Transaction]
) -> Result[int, Error]:
    if not sources:
        return Success(0)
    # First the sources' possible other sides only (opposite amounts, up to 3 days away, in
    # another account): most chunks have none, and then nothing more is read.
    start, end = window((row.posted_on for row in sources), -TRANSFER_DAYS, TRANSFER_DAYS)
    opposite = {-row.amount for row in sources}
    found = await uow.transactions.transfer_candidates(
        user_id, amounts=opposite, start=start, end=end
    )
    if isinstance(found, Failure):
        return found
    if all(row.account_id == state.account_id for row in found.value):
        return Success(0)
    # Up to 3 days from a source to a candidate, and 3 more to that candidate's candidates.
    reach = timedelta(days=2 * TRANSFER_DAYS.days)
    start, end = window((row.posted_on for row in sources), -reach, reach)
    amounts = {amount for row in sources for amount in (row.amount, -row.amount)}
    pool = await uow.transactions.transfer_candidates(
        user_id, amounts=amounts, start=start, end=end
    )
    if isinstance(pool, Failure):
        return pool
    pairs = transfer_pairs(sources, pool.value)
    return await uow.transactions.link_transfers([(one.id, other.id) for one, other in pairs])
