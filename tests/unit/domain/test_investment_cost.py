"""A position's cost from its trades (average cost): known only when they explain it all."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from dashtam.core.ids import new_id
from dashtam.domain.investments.cost import position_cost
from dashtam.domain.investments.entities import (
    HeldIn,
    InvestmentKind,
    InvestmentTransaction,
    PositionType,
)

ACCOUNT = new_id()
AS_OF = date(2026, 3, 31)
Kind = InvestmentKind


def trade(
    kind: InvestmentKind,
    day: int,
    units: str | None,
    total: str,
    *,
    held_in: HeldIn | None = HeldIn.CASH,
    id: UUID | None = None,
) -> InvestmentTransaction:
    return InvestmentTransaction(
        id=id or new_id(),
        account_id=ACCOUNT,
        provider_transaction_id=f"{kind}-{day}-{units}",
        kind=kind,
        trade_date=date(2026, 3, day),
        units=None if units is None else Decimal(units),
        total=Decimal(total),
        currency="USD",
        held_in=held_in,
    )


def cost(
    units: str,
    *trades: InvestmentTransaction,
    position_type: PositionType = PositionType.LONG,
    held_in: HeldIn = HeldIn.CASH,
    as_of: date = AS_OF,
) -> Decimal | None:
    return position_cost(
        units=Decimal(units),
        position_type=position_type,
        held_in=held_in,
        as_of=as_of,
        trades=trades,
    )


def test_buys_add_what_was_paid_fees_included() -> None:
    first = trade(Kind.BUY, 2, "10", "-1004.95")  # 10 at 100, 4.95 commission in the total
    second = trade(Kind.BUY, 9, "2.5", "-260.00")
    assert cost("12.5", second, first) == Decimal("1264.95")


def test_a_sale_removes_the_average_cost_of_what_it_sold() -> None:
    buy = trade(Kind.BUY, 2, "3", "-100.00")  # 33.3333... a unit
    sell = trade(Kind.SELL, 5, "-1", "40.00")  # the proceeds do not matter
    # 100 x 1/3 = 33.33333 removed, 4 places half-even: 33.3333; 66.6667 stays.
    assert cost("2", buy, sell) == Decimal("66.6667")
    second = trade(Kind.SELL, 6, "-2", "90.00")
    rebuy = trade(Kind.BUY, 7, "1", "-50.00")
    # Selling everything leaves no residue behind: the new lot alone is the cost.
    assert cost("1", buy, sell, second, rebuy) == Decimal("50.00")


def test_a_reinvestment_buys_units_with_the_income() -> None:
    buy = trade(Kind.BUY, 2, "35.124", "-3000.00")
    income = trade(Kind.INCOME, 20, None, "10.04")
    reinvest = trade(Kind.REINVEST, 20, "0.118", "-10.04")
    assert cost("35.242", buy, income, reinvest) == Decimal("3010.04")


def test_a_split_changes_the_units_not_the_cost() -> None:
    buy = trade(Kind.BUY, 2, "10", "-1000.00")
    split = trade(Kind.SPLIT, 10, "30", "0")  # 4 for 1: NEWUNITS 40 less OLDUNITS 10
    sell = trade(Kind.SELL, 12, "-10", "300.00")
    assert cost("40", buy, split) == Decimal("1000.00")
    assert cost("30", buy, split, sell) == Decimal("750.00")  # 25 a unit after the split
    impossible = trade(Kind.SPLIT, 10, "-20", "0")  # more units gone than were held
    assert cost("10", buy, impossible, trade(Kind.BUY, 11, "20", "-20.00")) is None


def test_a_return_of_capital_lowers_the_cost() -> None:
    buy = trade(Kind.BUY, 2, "15", "-1500.00")
    returned = trade(Kind.RETURN_OF_CAPITAL, 15, None, "0.91")
    assert cost("15", buy, returned) == Decimal("1499.09")
    too_much = trade(Kind.RETURN_OF_CAPITAL, 16, None, "1500.00")
    assert cost("15", buy, returned, too_much) is None  # a cost below zero is no cost


def test_a_transfer_in_brings_units_at_an_unknown_cost() -> None:
    buy = trade(Kind.BUY, 2, "10", "-1000.00")
    transfer = trade(Kind.TRANSFER_IN, 3, "5", "0")
    assert cost("15", buy, transfer) is None  # not 1000: the 5 units did not come free
    # Even when later sales would make the units match again, the cost stays unknown.
    sell = trade(Kind.SELL, 4, "-5", "600.00")
    assert cost("10", buy, transfer, sell) is None


def test_a_transfer_out_removes_units_at_average_cost() -> None:
    buy = trade(Kind.BUY, 2, "4", "-100.00")
    out = trade(Kind.TRANSFER_OUT, 3, "-1", "0")
    assert cost("3", buy, out) == Decimal("75.00")


def test_an_incomplete_history_leaves_the_cost_unknown() -> None:
    buy = trade(Kind.BUY, 2, "10", "-1000.00")
    assert cost("25", buy) is None  # 15 units came from before the file's history
    assert cost("5", buy) is None  # or left in a way the trades do not show
    assert (cost("10"), cost("0")) == (None, None)  # no trades explain nothing, not even 0
    # Selling what the history never bought: the history starts too late.
    early_sale = trade(Kind.SELL, 1, "-5", "500.00")
    assert cost("5", early_sale, buy) is None


def test_a_short_position_is_never_costed() -> None:
    sell = trade(Kind.SELL, 2, "-5", "1241.13", held_in=HeldIn.SHORT)
    buy = trade(Kind.BUY, 3, "10", "-2312.63", held_in=HeldIn.SHORT)
    assert cost("-5", sell, buy, position_type=PositionType.SHORT, held_in=HeldIn.SHORT) is None
    # Some brokers write a short position's units positive: it is still short.
    assert cost("10", buy, position_type=PositionType.SHORT, held_in=HeldIn.SHORT) is None
    # What makes it unknown is the position being short, not its trades or sub-account.
    assert cost("10", buy, held_in=HeldIn.SHORT) == Decimal("2312.63")


def test_only_the_positions_sub_account_and_dates_up_to_its_as_of_count() -> None:
    cash = trade(Kind.BUY, 2, "10", "-1000.00")
    margin = trade(Kind.BUY, 3, "4", "-500.00", held_in=HeldIn.MARGIN)
    unstated = trade(Kind.BUY, 4, "1", "-90.00", held_in=None)  # held in cash, like positions
    later = trade(Kind.BUY, 31, "7", "-700.00")
    assert cost("11", cash, margin, unstated, later, as_of=date(2026, 3, 30)) == Decimal("1090.00")
    assert cost("4", cash, margin, unstated, later, held_in=HeldIn.MARGIN) == Decimal("500.00")


def test_trades_replay_in_date_order_then_by_id() -> None:
    low, high = sorted((new_id(), new_id()))
    buy = trade(Kind.BUY, 2, "10", "-1000.00", id=high)
    sell = trade(Kind.SELL, 2, "-10", "1200.00", id=low)
    assert cost("0", buy, sell) is None  # the sale comes first: it sells what is not there
    buy_first = trade(Kind.BUY, 2, "10", "-1000.00", id=low)
    sell_after = trade(Kind.SELL, 2, "-10", "1200.00", id=high)
    assert cost("0", sell_after, buy_first) == Decimal("0")


def test_a_buy_that_does_not_fit_makes_the_cost_unknown() -> None:
    refund = trade(Kind.BUY, 2, "10", "1000.00")  # a buy that brought cash in: sign unknown
    no_units = trade(Kind.BUY, 2, None, "-1000.00")
    assert cost("10", refund) is None
    assert cost("0", no_units) is None


def test_other_kinds_leave_the_position_alone_and_money_is_kept_to_four_places() -> None:
    buy = trade(Kind.BUY, 2, "3", "-10.00")
    sell = trade(Kind.SELL, 3, "-1", "4.00")  # 10 / 3 = 3.33333 removed
    income = trade(Kind.INCOME, 4, None, "1.00")
    journal = trade(Kind.JOURNAL_SECURITY, 5, "-1", "0", held_in=HeldIn.CASH)
    fee = trade(Kind.EXPENSE, 6, None, "-2.00")
    found = cost("2", buy, sell, income, journal, fee)
    assert found == Decimal("6.6667")
    assert found is not None
    assert found.as_tuple().exponent == -4


def test_each_sale_books_the_cost_it_removes_to_four_places() -> None:
    buy = trade(Kind.BUY, 2, "6", "-1.00")
    first = trade(Kind.SELL, 3, "-1", "0.20")  # removes 0.16666... booked as 0.1667
    second = trade(Kind.SELL, 4, "-1", "0.20")  # removes 0.8333 / 5 = 0.16666, again 0.1667
    # Unrounded, 1 x 4/6 would be 0.6667: the booked removals leave 0.6666.
    assert cost("4", buy, first, second) == Decimal("0.6666")
