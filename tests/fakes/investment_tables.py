"""The fake store's investment tables, staged in the same transaction as the finance tables.

Holdings, investment transactions and cash balances point at accounts (ON DELETE CASCADE) and
at securities; securities point at nothing and are never deleted. The investment tables share
the ``FinanceTables`` of their transaction: its faults, its poisoning, and its accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Failure
from dashtam.domain.investments.entities import (
    Holding,
    InvestmentBalance,
    InvestmentTransaction,
    Security,
)
from tests.fakes.finance_tables import PLACES, FinanceTables, duplicate, integrity_error

QUANTITY = Decimal("1E-10")  # DecimalQuantity: NUMERIC(38, 10) / canonical text


class _Keyed(Protocol):
    @property
    def id(self) -> UUID: ...


Row = TypeVar("Row", bound=_Keyed)


def quantity(value: object) -> Decimal | None:
    """The units or price as a row returns them; None when refused (not a Decimal, not
    finite, or an eleventh decimal place)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    with localcontext() as context:
        context.prec = 1000
        context.traps[Inexact] = True
        try:
            stored = value.quantize(QUANTITY)
        except (Inexact, InvalidOperation):
            return None
    return stored.copy_abs() if stored.is_zero() else stored


def amount(value: object) -> Decimal | None:
    """Money as a row returns it; None when refused (not a Decimal, or a fifth place)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    stored = value.quantize(PLACES)
    return stored if stored == value else None


class Overlay(Generic[Row]):
    """One table: committed rows, and this transaction's writes staged over them."""

    def __init__(self, table: dict[UUID, Row]) -> None:
        self.table = table
        self.staged: dict[UUID, Row] = {}

    def get(self, key: UUID) -> Row | None:
        return self.staged[key] if key in self.staged else self.table.get(key)

    def all(self) -> Iterator[Row]:
        yield from self.staged.values()
        yield from (row for key, row in self.table.items() if key not in self.staged)

    def put(self, row: Row) -> None:
        self.staged[row.id] = row

    def apply(self) -> None:
        self.table.update(self.staged)
        self.staged.clear()


class InvestmentTables:
    """One fake transaction over the investment tables of a ``FakeStore``."""

    def __init__(
        self,
        *,
        finance: FinanceTables,
        securities: dict[UUID, Security],
        holdings: dict[UUID, Holding],
        transactions: dict[UUID, InvestmentTransaction],
        balances: dict[UUID, InvestmentBalance],
    ) -> None:
        self.finance = finance
        self.securities = Overlay(securities)
        self.holdings = Overlay(holdings)
        self.transactions = Overlay(transactions)
        self.balances = Overlay(balances)

    def refuse(self, operation: str) -> Error | None:
        return self.finance.refuse(operation)

    def poison(self, error: Error) -> Failure[Error]:
        return self.finance.poison(error)

    def has_account(self, account_id: UUID) -> bool:
        return self.finance.accounts.get(account_id) is not None

    # Rows of a deleted account are gone, as ON DELETE CASCADE would have them.
    def live_holdings(self, account_id: UUID) -> list[Holding]:
        live = self.has_account(account_id)
        return [h for h in self.holdings.all() if live and h.account_id == account_id]

    def live_transactions(self, account_id: UUID) -> list[InvestmentTransaction]:
        live = self.has_account(account_id)
        return [t for t in self.transactions.all() if live and t.account_id == account_id]

    def live_balances(self, account_id: UUID) -> list[InvestmentBalance]:
        live = self.has_account(account_id)
        return [b for b in self.balances.all() if live and b.account_id == account_id]

    def security(self, security_id: UUID) -> Security:
        """The stored security a row points at (the foreign key makes it exist)."""
        found = self.securities.get(security_id)
        assert found is not None, "a row points at a missing security"
        return found

    # -- the fake transaction -------------------------------------------------------------

    def check_staged(self) -> Error | None:
        """What committing would meet: keys others committed meanwhile, deleted accounts."""
        keys = [
            [s.identifier for s in self.securities.all()],
            [
                (h.account_id, h.security.id, h.as_of, h.held_in, h.position_type)
                for h in self.holdings.all()
            ],
            [(t.account_id, t.provider_transaction_id) for t in self.transactions.all()],
            [(b.account_id, b.as_of) for b in self.balances.all()],
        ]
        if any(len(k) != len(set(k)) for k in keys):
            return duplicate()
        staged = [
            *self.holdings.staged.values(),
            *self.transactions.staged.values(),
            *self.balances.staged.values(),
        ]
        if any(not self.has_account(row.account_id) for row in staged):
            return integrity_error()
        return None

    def apply_staged(self) -> None:
        """Publish; runs after the finance tables', so their committed accounts decide."""
        for overlay in (self.securities, self.holdings, self.transactions, self.balances):
            overlay.apply()
        live = self.finance.accounts.table.keys()
        for child in (self.holdings.table, self.transactions.table, self.balances.table):
            for key in [key for key, row in child.items() if row.account_id not in live]:
                child.pop(key)

    def discard_staged(self) -> None:
        for overlay in (self.securities, self.holdings, self.transactions, self.balances):
            overlay.staged.clear()
