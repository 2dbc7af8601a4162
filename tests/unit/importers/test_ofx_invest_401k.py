"""A 401(k) statement (INV401K, INV401KBAL, sources of money) and one of options and bonds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from dashtam.domain.imports.investments import InvestmentData
from dashtam.domain.imports.statement import StatementPart
from dashtam.domain.investments.entities import (
    HeldIn,
    InvestmentKind,
    PositionType,
    SecurityKind,
)
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, fixture

K = InvestmentKind
EDT = timezone(timedelta(hours=-4))


def _parts(name: str, batch_size: int = 1000) -> list[StatementPart]:
    data = fixture(name)
    return [p.unwrap() for p in OfxParser().stream(data, limits=LIMITS, batch_size=batch_size)]


def _invest(part: StatementPart) -> InvestmentData:
    assert part.investment is not None
    return part.investment


def test_a_401k_plan_says_so_on_every_part_and_keeps_the_source_of_money() -> None:
    parts = _parts("invest_401k_ofx1.qfx", batch_size=3)
    assert [len(_invest(p).transactions) for p in parts] == [3, 3, 1]
    assert all(_invest(p).is_401k for p in parts)
    trades = [t for p in parts for t in _invest(p).transactions]
    rows = [
        (t.provider_transaction_id, t.kind, t.trade_date, str(t.units), str(t.unit_price),
         str(t.total), t.source_401k)
        for t in trades
    ]  # fmt: skip
    assert rows == [
        ("P2024031501", K.BUY, date(2024, 3, 15), "1.823000", "246.840000", "-450.00", "PRETAX"),
        ("P2024031502", K.BUY, date(2024, 3, 15), "0.911500", "246.840000", "-225.00", "MATCH"),
        ("P2024031503", K.BUY, date(2024, 3, 15), "3.517298", "12.793800", "-45.00", "PRETAX"),
        (
            "D2024032801",
            K.REINVEST,
            date(2024, 3, 28),
            "0.152766",
            "249.210000",
            "-38.07",
            "PRETAX",
        ),
        ("X2024032001", K.SELL, date(2024, 3, 20), "-7.800000", "12.820000", "100.00", "ROLLOVER"),
        ("X2024032002", K.BUY, date(2024, 3, 20), "0.402027", "248.740000", "-100.00", "ROLLOVER"),
        ("F2024033101", K.EXPENSE, date(2024, 3, 31), "None", "None", "-8.75", "PRETAX"),
    ]
    assert {(t.held_in, t.cash_held_in) for t in trades if t.kind is K.BUY} == {
        (HeldIn.OTHER, HeldIn.OTHER)
    }


def test_a_fund_held_from_two_sources_is_one_position_and_the_plan_balances_are_kept() -> None:
    last = _parts("invest_401k_ofx1.qfx")[-1]
    rows = [
        (p.security_id.unique_id, str(p.units), str(p.unit_price), str(p.market_value))
        for p in _invest(last).positions
    ]
    assert rows == [
        # PRETAX 120.502331 (30140.04) and MATCH 40.118890 (10034.54)
        ("922908710", "160.621221", "250.120000", "40174.58"),
        ("92202V351", "210.004500", "12.850000", "2698.56"),
    ]
    balance = _invest(last).balance
    assert balance is not None
    assert balance.available_cash is None  # no INVBAL in this file
    assert balance.details == {
        "401k.Vested Balance": "40366.87",
        "401k.cashbal": "0.00",
        "401k.pretax": "32838.60",
        "401k.match": "10034.54",
        "401k.rollover": "0.00",
        "401k.total": "42873.14",
        "401k.employername": "Example Manufacturing Co.",
        "401k.planid": "EXM-401K-002",
        "401k.planjoindate": "20190601",
    }
    assert last.account.statement_end == datetime(2024, 3, 31, tzinfo=UTC)
    # CASHBAL (no AVAILCASH) plus the positions: the plan's TOTAL.
    assert last.account.balance == Decimal("42873.14")
    assert last.account.available_balance is None
    assert {s.ticker: s.kind for s in _parts("invest_401k_ofx1.qfx")[0].securities} == {
        "VFIAX": SecurityKind.MUTUAL_FUND,
        "VBTIX": SecurityKind.MUTUAL_FUND,
    }


def test_options_and_bonds() -> None:
    [part] = _parts("invest_options_debt_ofx2.ofx")
    rows = [
        (t.provider_transaction_id, t.kind, t.security_id.unique_id if t.security_id else None,
         str(t.units), str(t.unit_price), str(t.commission), str(t.fees), str(t.total))
        for t in _invest(part).transactions
    ]  # fmt: skip
    spy, aapl = "SPY   241018P00560000", "AAPL  240920C00230000"
    assert rows == [
        ("OPT-0903-01", K.BUY, spy, "3", "7.62", "1.50", "0.07", "-2287.57"),
        ("OPT-0905-01", K.SELL, aapl, "-2", "1.955", "1.00", "0.05", "389.95"),
        ("OPT-0912-01", K.SELL, spy, "-1", "5.1", "0.50", "0.03", "509.47"),
        ("OPT-0916-01", K.BUY, aapl, "1", "0.48", "0.50", "0.02", "-48.52"),
        ("OPT-0919-EXP", K.OPTION_EXPIRE, aapl, "1", "None", "None", "None", "0"),
        ("BND-0910-01", K.BUY, "91282CLF6", "15000", "101.0859375", "0.00", "None", "-15204.16"),
        ("BND-0912-02", K.BUY, "912797LW5", "5000", "99.1665", "None", "None", "-4958.33"),
        ("BND-0915-INT", K.INCOME, "649902P64", "None", "None", "None", "None", "212.50"),
        ("BND-0917-MAT", K.SELL, "912797KX4", "-10000", "100", "None", "None", "10000.00"),
    ]
    first = _invest(part).transactions[0]
    # The trade's day as written, whatever its time and zone.
    assert (first.trade_date, first.settle_date) == (date(2024, 9, 3), date(2024, 9, 4))
    positions = [
        (p.security_id.unique_id, str(p.units), str(p.unit_price), str(p.market_value),
         p.position_type)
        for p in _invest(part).positions
    ]  # fmt: skip
    assert positions == [
        (spy, "2", "4.365", "873.00", PositionType.LONG),
        ("AAPL  241115C00250000", "-1", "2.12", "-212.00", PositionType.SHORT),
        ("91282CLF6", "15000", "101.2421875", "15186.33", PositionType.LONG),
        ("912797LW5", "5000", "99.21875", "4960.94", PositionType.LONG),
        ("649902P64", "10000", "103.517", "10351.70", PositionType.LONG),
    ]
    # 18210.40 + 873.00 - 212.00 + 15186.33 + 4960.94 + 10351.70
    assert part.account.balance == Decimal("49370.37")
    assert part.account.balance_as_of == datetime(2024, 9, 19, 20, 0, tzinfo=EDT)
    kinds = {s.security_id.unique_id: (s.kind, s.ticker) for s in part.securities}
    assert kinds[spy] == (SecurityKind.OPTION, "SPY----241018P00560000")
    assert kinds["649902P64"] == (SecurityKind.DEBT, None)
    assert len(kinds) == 7
