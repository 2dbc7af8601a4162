"""Investments: securities (shared by everyone), and each account's positions, trades and cash.

Units and prices are exact decimals with up to 10 fractional digits (fractional shares, fund
NAVs, crypto); money (totals, commissions, market values, cash) has 4, like every amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id

QUANTITY_PLACES = 10


class SecurityKind(StrEnum):
    STOCK = "stock"
    MUTUAL_FUND = "mutual_fund"
    ETF = "etf"
    DEBT = "debt"
    OPTION = "option"
    OTHER = "other"


class HeldIn(StrEnum):
    """The sub-account a position or its cash side sits in (OFX ``SUBACCT*``)."""

    CASH = "cash"
    MARGIN = "margin"
    SHORT = "short"
    OTHER = "other"


class PositionType(StrEnum):
    LONG = "long"
    SHORT = "short"


class InvestmentKind(StrEnum):
    BUY = "buy"
    SELL = "sell"
    INCOME = "income"
    REINVEST = "reinvest"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    SPLIT = "split"
    RETURN_OF_CAPITAL = "return_of_capital"
    MARGIN_INTEREST = "margin_interest"
    JOURNAL_CASH = "journal_cash"
    JOURNAL_SECURITY = "journal_security"
    OPTION_EXERCISE = "option_exercise"
    OPTION_ASSIGN = "option_assign"
    OPTION_EXPIRE = "option_expire"
    EXPENSE = "expense"
    OTHER = "other"


class IncomeType(StrEnum):
    DIVIDEND = "dividend"
    INTEREST = "interest"
    CAPITAL_GAINS_LONG = "capital_gains_long"
    CAPITAL_GAINS_SHORT = "capital_gains_short"
    MISC = "misc"


@dataclass(frozen=True, slots=True)
class SecurityId:
    """How a file names a security: ``CUSIP``, ``ISIN``, ``TICKER`` or the file's own scheme."""

    unique_id: str
    unique_id_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Security:
    """Shared by every user: it never carries anything about whoever holds it."""

    id: UUID = field(default_factory=new_id)
    unique_id: str
    unique_id_type: str
    name: str
    ticker: str | None = None
    kind: SecurityKind = SecurityKind.OTHER
    currency: str | None = None
    # When the name/ticker were last stated by a file: the newest statement's wins.
    info_as_of: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def identifier(self) -> SecurityId:
        return SecurityId(self.unique_id, self.unique_id_type)


@dataclass(frozen=True, slots=True, kw_only=True)
class Holding:
    """One position of one account as of one statement; unique per (account, security, as_of)."""

    id: UUID = field(default_factory=new_id)
    account_id: UUID
    security: Security
    as_of: datetime
    units: Decimal
    unit_price: Decimal
    market_value: Decimal
    currency: str
    price_as_of: datetime | None = None
    position_type: PositionType = PositionType.LONG
    held_in: HeldIn = HeldIn.CASH
    cost_basis: Decimal | None = None
    created_at: datetime = field(default_factory=utcnow)

    @property
    def unrealised_gain(self) -> Decimal | None:
        return None if self.cost_basis is None else self.market_value - self.cost_basis


@dataclass(frozen=True, slots=True, kw_only=True)
class InvestmentTransaction:
    """A trade, income or transfer of securities; unique per (account, provider id).

    ``total`` is the cash effect in the account's currency as the file states it (negative
    for a purchase); ``units`` is negative when units leave the account.
    """

    id: UUID = field(default_factory=new_id)
    account_id: UUID
    provider_transaction_id: str
    kind: InvestmentKind
    trade_date: date
    total: Decimal
    currency: str
    security: Security | None = None
    settle_date: date | None = None
    units: Decimal | None = None
    unit_price: Decimal | None = None
    commission: Decimal | None = None
    fees: Decimal | None = None
    taxes: Decimal | None = None
    load: Decimal | None = None
    income_type: IncomeType | None = None
    held_in: HeldIn | None = None  # where the security sits
    cash_held_in: HeldIn | None = None  # the cash side (OFX SUBACCTFUND)
    source_401k: str | None = None  # PRETAX, AFTERTAX, MATCH, PROFITSHARING, ROLLOVER, ...
    memo: str | None = None
    statement_as_of: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvestmentBalance:
    """An account's cash side as of one statement; unique per (account, as_of).

    ``details`` keeps what has no column of its own: the ``BALLIST`` entries and the 401(k)
    balances by source, by their names in the file.
    """

    id: UUID = field(default_factory=new_id)
    account_id: UUID
    as_of: datetime
    available_cash: Decimal | None = None
    margin_balance: Decimal | None = None
    short_balance: Decimal | None = None
    buying_power: Decimal | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    created_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True, kw_only=True)
class ValuePoint:
    """An investment account's value at one statement: its cash plus its positions."""

    as_of: datetime
    cash: Decimal
    positions: Decimal

    @property
    def total(self) -> Decimal:
        return self.cash + self.positions
