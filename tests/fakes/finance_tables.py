"""The fake store's finance tables, staged as one transaction (used by ``finance.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, TypeVar
from uuid import UUID

from dashtam.core.errors import ConflictError, Error
from dashtam.core.result import Failure
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.entities import Transaction
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes.faults import Faults

Row = TypeVar("Row", ProviderConnection, Account, BalanceSnapshot, Transaction)

PLACES = Decimal("0.0001")  # DecimalAmount: NUMERIC(20, 4) / scaled BIGINT


def duplicate() -> ConflictError:
    return ConflictError("duplicate value", code="duplicate")


def stale_version(what: str) -> ConflictError:
    return ConflictError(
        f"the {what} was changed by someone else; reload and retry", code="stale_version"
    )


def integrity_error() -> DatabaseError:
    """What ``classify`` makes of a foreign-key violation on both backends."""
    return DatabaseError("data violates an integrity constraint", code="integrity_error")


def aborted() -> DatabaseError:
    return DatabaseError("database operation failed")


def money(value: Decimal) -> Decimal | None:
    """The amount as a row returns it; None when it has a fifth decimal place (refused)."""
    stored = value.quantize(PLACES)
    return stored if stored == value else None


def utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


class _Overlay(Generic[Row]):
    """One table: committed rows in ``table``, this transaction's writes (None: deleted) staged."""

    def __init__(self, table: dict[UUID, Row]) -> None:
        self.table: dict[UUID, Row] = table
        self.staged: dict[UUID, Row | None] = {}

    def get(self, key: UUID) -> Row | None:
        return self.staged[key] if key in self.staged else self.table.get(key)

    def rows(self) -> Iterator[Row]:
        for key in self.table.keys() | self.staged.keys():
            if (row := self.get(key)) is not None:
                yield row

    def put(self, key: UUID, row: Row | None) -> None:
        self.staged[key] = row

    def apply(self) -> None:
        for key, row in self.staged.items():
            if row is None:
                self.table.pop(key, None)
            else:
                self.table[key] = row
        self.staged.clear()


class FinanceTables:
    """One fake transaction over the four finance tables of a ``FakeStore``."""

    def __init__(
        self,
        *,
        connections: dict[UUID, ProviderConnection],
        accounts: dict[UUID, Account],
        snapshots: dict[UUID, BalanceSnapshot],
        transactions: dict[UUID, Transaction],
        faults: Faults | None = None,
    ) -> None:
        self.connections = _Overlay(connections)
        self.accounts = _Overlay(accounts)
        self.snapshots = _Overlay(snapshots)
        self.transactions = _Overlay(transactions)
        self.faults = faults or Faults()
        # No savepoints in the SQL adapters: after a failed statement the transaction is dead.
        self.poisoned = False

    def refuse(self, operation: str) -> Error | None:
        return aborted() if self.poisoned else self.faults.take(operation)

    def poison(self, error: Error) -> Failure[Error]:
        self.poisoned = True
        return Failure(error)

    def delete_account(self, account_id: UUID) -> None:
        """The row and, like ON DELETE CASCADE, its transactions and snapshots."""
        self.accounts.put(account_id, None)
        gone = set()
        for transaction in list(self.transactions.rows()):
            if transaction.account_id == account_id:
                self.transactions.put(transaction.id, None)
                gone.add(transaction.id)
        for transaction in list(self.transactions.rows()):
            if transaction.transfer_id in gone:  # ON DELETE SET NULL: the other side is freed
                self.transactions.put(transaction.id, replace(transaction, transfer_id=None))
        for snapshot in list(self.snapshots.rows()):
            if snapshot.account_id == account_id:
                self.snapshots.put(snapshot.id, None)

    # -- the fake transaction -------------------------------------------------------------

    def check_staged(self) -> Error | None:
        """What committing would meet now: rows others committed meanwhile may collide."""
        if self.poisoned:
            return aborted()
        accounts = list(self.accounts.rows())
        keys = [(a.connection_id, a.provider_account_id) for a in accounts]
        snapshots = [(s.account_id, s.as_of) for s in self.snapshots.rows()]
        rows = [(t.account_id, t.provider_transaction_id) for t in self.transactions.rows()]
        if any(len(k) != len(set(k)) for k in (keys, snapshots, rows)):
            return duplicate()
        # Connections are never deleted through the ports; accounts are (by another purge).
        account_ids = {account.id for account in accounts}
        if any(
            row is not None and row.account_id not in account_ids
            for row in [*self.snapshots.staged.values(), *self.transactions.staged.values()]
        ):
            return integrity_error()
        return None

    def apply_staged(self) -> None:
        for overlay in (self.connections, self.accounts, self.snapshots, self.transactions):
            overlay.apply()
        # Cascade over rows committed by others since this transaction deleted their account.
        live = self.accounts.table.keys()
        for child in (self.snapshots.table, self.transactions.table):
            for key in [key for key, row in child.items() if row.account_id not in live]:
                child.pop(key)
        self.discard_staged()

    def discard_staged(self) -> None:
        for overlay in (self.connections, self.accounts, self.snapshots, self.transactions):
            overlay.staged.clear()
        self.poisoned = False
