"""What a parser makes of an investment statement, before anything is stored.

An investment statement arrives as ordinary ``StatementPart``s: its account, its cash
transactions (``INVBANKTRAN``) in ``transactions``, and ``investment`` data. Trades and
positions name their securities by ``SecurityId``; the file's ``SECLIST`` describes them, and
comes with the first part of the first investment statement (``StatementPart.securities``):
it usually follows the statements in the file, so the parser reads it ahead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from dashtam.domain.investments.entities import (
    HeldIn,
    IncomeType,
    InvestmentKind,
    PositionType,
    SecurityId,
    SecurityKind,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedSecurity:
    security_id: SecurityId
    name: str
    ticker: str | None = None
    kind: SecurityKind = SecurityKind.OTHER
    currency: str | None = None
    unit_price: Decimal | None = None
    price_as_of: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedPosition:
    security_id: SecurityId
    units: Decimal
    unit_price: Decimal
    market_value: Decimal
    price_as_of: datetime | None = None
    position_type: PositionType = PositionType.LONG
    held_in: HeldIn = HeldIn.CASH
    cost_basis: Decimal | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedInvestmentTransaction:
    provider_transaction_id: str
    kind: InvestmentKind
    trade_date: date
    total: Decimal
    security_id: SecurityId | None = None
    settle_date: date | None = None
    units: Decimal | None = None
    unit_price: Decimal | None = None
    commission: Decimal | None = None
    fees: Decimal | None = None
    taxes: Decimal | None = None
    load: Decimal | None = None
    income_type: IncomeType | None = None
    held_in: HeldIn | None = None
    cash_held_in: HeldIn | None = None
    source_401k: str | None = None
    memo: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedInvestmentBalance:
    available_cash: Decimal | None = None
    margin_balance: Decimal | None = None
    short_balance: Decimal | None = None
    buying_power: Decimal | None = None
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvestmentData:
    """The investment side of one ``StatementPart``.

    ``as_of`` is the statement's ``DTASOF``: the time its positions and cash balances describe.
    Positions and the balance come with the account's last part; transactions in batches.
    """

    as_of: datetime
    transactions: Sequence[ParsedInvestmentTransaction] = ()
    positions: Sequence[ParsedPosition] = ()
    balance: ParsedInvestmentBalance | None = None
    is_401k: bool = False
