"""The fake ``TransactionRepository``'s reconciling half: look-ups near a date, pending rows
absorbed by their posted form, transfer links (the twin of ``repositories/transaction_links``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import PendingReplacement, TransferFilter
from tests.fakes.finance_tables import PLACES, FinanceTables, aborted, duplicate, money


def transfer_wanted(row: Transaction, wanted: TransferFilter) -> bool:
    """``search``'s transfer filter; a self link means "not a transfer"."""
    linked = row.transfer_id is not None and row.transfer_id != row.id
    match wanted:
        case TransferFilter.ONLY:
            return linked
        case TransferFilter.EXCLUDE:
            return not linked
    return True


class FakeTransactionLinks:
    tables: FinanceTables

    async def absorb_pending(
        self, replacements: Sequence[PendingReplacement]
    ) -> Result[int, Error]:
        if not replacements:
            return Success(0)
        if (refused := self.tables.refuse("transactions.absorb_pending")) is not None:
            return Failure(refused)
        if any(money(r.posted.amount) is None for r in replacements):
            return self.tables.poison(aborted())
        changed = 0
        for item in replacements:
            row = self.tables.transactions.get(item.row_id)
            if row is None:
                continue
            posted = item.posted
            taken = {
                t.provider_transaction_id
                for t in self.tables.transactions.rows()
                if t.account_id == row.account_id and t.id != row.id
            }
            if posted.provider_transaction_id in taken:
                return self.tables.poison(duplicate())  # the unique (account, provider id)
            stamps = [s for s in (row.statement_as_of, item.statement_as_of) if s is not None]
            self.tables.transactions.put(
                row.id,
                replace(
                    row,
                    provider_transaction_id=posted.provider_transaction_id,
                    amount=posted.amount.quantize(PLACES),
                    posted_on=posted.posted_on,
                    description=posted.description,
                    payee=posted.payee,
                    memo=posted.memo,
                    status=posted.status,
                    check_number=posted.check_number[:32] if posted.check_number else None,
                    reference=posted.reference[:64] if posted.reference else None,
                    statement_as_of=max(stamps) if stamps else None,
                ),
            )
            changed += 1
        return Success(changed)

    async def by_provider_ids(
        self, account_id: UUID, provider_ids: Collection[str]
    ) -> Result[Sequence[Transaction], Error]:
        if not provider_ids:
            return Success([])
        if (refused := self.tables.refuse("transactions.by_provider_ids")) is not None:
            return Failure(refused)
        wanted = set(provider_ids)
        return Success(
            [
                t
                for t in self.tables.transactions.rows()
                if t.account_id == account_id and t.provider_transaction_id in wanted
            ]
        )

    async def in_window(
        self, account_id: UUID, *, status: TransactionStatus, start: date, end: date
    ) -> Result[Sequence[Transaction], Error]:
        if (refused := self.tables.refuse("transactions.in_window")) is not None:
            return Failure(refused)
        rows = [
            t
            for t in self.tables.transactions.rows()
            if t.account_id == account_id and t.status is status and start <= t.posted_on <= end
        ]
        return Success(sorted(rows, key=lambda t: (t.posted_on, t.id)))

    async def transfer_candidates(
        self, user_id: UUID, *, amounts: Collection[Decimal], start: date, end: date
    ) -> Result[Sequence[Transaction], Error]:
        if not amounts:
            return Success([])
        if (refused := self.tables.refuse("transactions.transfer_candidates")) is not None:
            return Failure(refused)
        owned = {a.id for a in self.tables.accounts.rows() if a.user_id == user_id}
        wanted = set(amounts)
        rows = [
            t
            for t in self.tables.transactions.rows()
            if t.account_id in owned
            and start <= t.posted_on <= end
            and t.amount in wanted
            and t.status is TransactionStatus.POSTED
            and t.transfer_id is None
        ]
        return Success(sorted(rows, key=lambda t: (t.posted_on, t.id)))

    async def link_transfers(self, pairs: Sequence[tuple[UUID, UUID]]) -> Result[int, Error]:
        if not pairs:
            return Success(0)
        if (refused := self.tables.refuse("transactions.link_transfers")) is not None:
            return Failure(refused)
        for one, other in pairs:
            for row_id, partner in ((one, other), (other, one)):
                row = self.tables.transactions.get(row_id)
                if row is None or row.transfer_id is not None:
                    return Failure(
                        ConflictError(
                            "a transaction was linked by another change meanwhile; retry",
                            code="transfer_conflict",
                        )
                    )
                self.tables.transactions.put(row_id, replace(row, transfer_id=partner))
        return Success(len(pairs))

    async def set_transfer_ids(self, links: Mapping[UUID, UUID | None]) -> Result[None, Error]:
        if not links:
            return Success(None)
        if (refused := self.tables.refuse("transactions.set_transfer_ids")) is not None:
            return Failure(refused)
        for row_id, partner in links.items():
            row = self.tables.transactions.get(row_id)
            if row is not None:  # an UPDATE ... WHERE id: no row, no error
                self.tables.transactions.put(row_id, replace(row, transfer_id=partner))
        return Success(None)

    async def get_owned(
        self, user_id: UUID, transaction_id: UUID
    ) -> Result[Transaction | None, Error]:
        if (refused := self.tables.refuse("transactions.get_owned")) is not None:
            return Failure(refused)
        row = self.tables.transactions.get(transaction_id)
        account = self.tables.accounts.get(row.account_id) if row is not None else None
        if row is None or account is None or account.user_id != user_id:
            return Success(None)
        return Success(row)
