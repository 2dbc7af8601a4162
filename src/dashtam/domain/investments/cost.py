"""A position's cost basis from the account's own trades, by the average-cost method.

Used only when the file states no cost (``POSSTOCK`` without ``AVGCOSTBASIS``). The trades of
the position's security and sub-account dated up to its as-of are replayed oldest first
(trade date, then id):

- buy and reinvest add their units and what was paid, ``-total`` (commission and fees
  included: an OFX ``TOTAL`` already includes them);
- sell and transfer out remove units at the running average cost;
- a split changes the units, not the cost (its cash for a fractional share, ``FRACCASH``, is
  not a sale here); a return of capital lowers the cost by its total;
- a transfer in brings units at a cost the file does not say: the cost is unknown;
- anything else (income, journals, options, expenses) leaves the position alone.

The cost is known only when the replayed units equal the position's units exactly, i.e. the
stored history explains the whole position; a trade that does not fit (a buy with a positive
total or no units, a sale of more than is held, a cost below zero) makes it unknown too. Short
positions are never costed. A trade without a sub-account is taken as held in cash, as a
position without one is. Money is kept to 4 places (half-even), like every amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from dashtam.domain.investments.entities import (
    HeldIn,
    InvestmentKind,
    InvestmentTransaction,
    PositionType,
)

MONEY_PLACES = Decimal("0.0001")
_ADDS = frozenset({InvestmentKind.BUY, InvestmentKind.REINVEST})
_REMOVES = frozenset({InvestmentKind.SELL, InvestmentKind.TRANSFER_OUT})
_COUNTED = (
    _ADDS
    | _REMOVES
    | {
        InvestmentKind.SPLIT,
        InvestmentKind.RETURN_OF_CAPITAL,
        InvestmentKind.TRANSFER_IN,
    }
)
# Units (22 digits) times money (15 digits) must not be rounded before the final quantize.
_PRECISION = 60


@dataclass(frozen=True, slots=True)
class _Running:
    units: Decimal
    cost: Decimal


def position_cost(
    *,
    units: Decimal,
    position_type: PositionType,
    held_in: HeldIn,
    as_of: date,
    trades: Iterable[InvestmentTransaction],
) -> Decimal | None:
    """The position's cost when its trades explain all of its units; None when unknown.

    ``trades`` are the account's trades of the position's security (others are not told apart).
    """
    if position_type is not PositionType.LONG:
        return None
    mine = sorted(
        (
            t
            for t in trades
            if t.kind in _COUNTED
            and t.trade_date <= as_of
            and (t.held_in or HeldIn.CASH) is held_in
        ),
        key=lambda t: (t.trade_date, t.id),
    )
    if not mine:
        return None
    running = _Running(Decimal(0), Decimal(0))
    with localcontext() as context:
        context.prec = _PRECISION
        for trade in mine:
            after = _apply(running, trade)
            if after is None:
                return None
            running = after
    return _money(running.cost) if running.units == units else None


def _apply(running: _Running, trade: InvestmentTransaction) -> _Running | None:
    """The position after one trade; None when the trade makes its cost unknown."""
    moved = trade.units
    if trade.kind in _ADDS:
        paid = -trade.total
        if moved is None or moved <= 0 or paid < 0:
            return None
        return _Running(running.units + moved, running.cost + paid)
    if trade.kind in _REMOVES:
        if moved is None or moved >= 0 or -moved > running.units:
            return None
        # The cost a sale removes is booked money, rounded to 4 places at each sale (as the
        # gain it realises would be); selling everything removes exactly the whole cost.
        removed = _money(running.cost * -moved / running.units)
        return _Running(running.units + moved, running.cost - removed)
    if trade.kind is InvestmentKind.SPLIT:
        if moved is None or running.units + moved < 0:
            return None
        return _Running(running.units + moved, running.cost)
    if trade.kind is InvestmentKind.RETURN_OF_CAPITAL:
        cost = running.cost - trade.total
        return None if cost < 0 else _Running(running.units, cost)
    return None  # a transfer in: units at a cost nobody stated


def _money(value: Decimal) -> Decimal:
    return value.quantize(MONEY_PLACES, rounding=ROUND_HALF_EVEN)
