"""What the investment reads answer: positions with their cash, and positions across accounts.

Pure: built from what the repositories returned, so the sums are tested without a database.
Amounts are summed per currency and never converted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from dashtam.domain.accounts.entities import Account
from dashtam.domain.investments.entities import Holding, Security


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyValue:
    currency: str
    cash: Decimal
    positions: Decimal

    @property
    def total(self) -> Decimal:
        return self.cash + self.positions


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountHoldings:
    """One account's positions as of one snapshot, and its cash at that time (None: unknown)."""

    account: Account
    holdings: Sequence[Holding]
    available_cash: Decimal | None
    cash_as_of: datetime | None

    @property
    def as_of(self) -> datetime | None:
        return max((h.as_of for h in self.holdings), default=None)

    @property
    def totals(self) -> list[CurrencyValue]:
        """Cash plus positions per currency; the cash is in the account's currency."""
        cash: dict[str, Decimal] = {}
        if self.available_cash is not None:
            cash[self.account.currency] = self.available_cash
        positions: dict[str, Decimal] = {}
        for holding in self.holdings:
            positions[holding.currency] = (
                positions.get(holding.currency, Decimal(0)) + holding.market_value
            )
        return [
            CurrencyValue(
                currency=currency,
                cash=cash.get(currency, Decimal(0)),
                positions=positions.get(currency, Decimal(0)),
            )
            for currency in sorted(cash.keys() | positions.keys())
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountPosition:
    """One account's share of a security's position."""

    account_id: UUID
    units: Decimal
    market_value: Decimal
    as_of: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityPosition:
    """A security's position across the owner's accounts, in one currency."""

    security: Security
    currency: str
    accounts: Sequence[AccountPosition]

    @property
    def units(self) -> Decimal:
        return sum((a.units for a in self.accounts), Decimal(0))

    @property
    def market_value(self) -> Decimal:
        return sum((a.market_value for a in self.accounts), Decimal(0))


def positions_by_security(holdings: Iterable[Holding]) -> list[SecurityPosition]:
    """Holdings grouped by (security, currency), by name then currency; accounts in order met.

    One account may hold a security twice in one snapshot (cash and margin sub-accounts, or a
    long and a short position): its rows are summed into one entry of the breakdown.
    """
    groups: dict[tuple[UUID, str], dict[UUID, AccountPosition]] = {}
    securities: dict[UUID, Security] = {}
    for holding in holdings:
        securities[holding.security.id] = holding.security
        by_account = groups.setdefault((holding.security.id, holding.currency), {})
        seen = by_account.get(holding.account_id)
        by_account[holding.account_id] = AccountPosition(
            account_id=holding.account_id,
            units=holding.units + (seen.units if seen else Decimal(0)),
            market_value=holding.market_value + (seen.market_value if seen else Decimal(0)),
            as_of=max(holding.as_of, seen.as_of) if seen else holding.as_of,
        )
    positions = [
        SecurityPosition(
            security=securities[security_id], currency=currency, accounts=list(accounts.values())
        )
        for (security_id, currency), accounts in groups.items()
    ]
    return sorted(positions, key=lambda p: (p.security.name.casefold(), p.currency, p.security.id))


def value_totals(positions: Iterable[SecurityPosition]) -> list[CurrencyValue]:
    """The market value of ``positions`` per currency (no cash: that is the accounts' side)."""
    sums: dict[str, Decimal] = {}
    for position in positions:
        sums[position.currency] = sums.get(position.currency, Decimal(0)) + position.market_value
    return [
        CurrencyValue(currency=currency, cash=Decimal(0), positions=value)
        for currency, value in sorted(sums.items())
    ]
