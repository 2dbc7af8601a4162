"""An OFX 2.x (XML) brokerage statement with every kind of investment transaction.

Shaped like a Schwab download, with the quirks brokers have: fractional shares to ten
places, a sell and a transfer out written with positive units, a FITID given to two
dividends, a trade sent twice, a cash line without FITID, an INCOME without SECID, one
security held in two sub-accounts, option ids with inner spaces, an ISIN and a broker's own
id type.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from dashtam.domain.imports.investments import InvestmentData, ParsedInvestmentTransaction
from dashtam.domain.imports.statement import StatementPart
from dashtam.domain.investments.entities import (
    HeldIn,
    IncomeType,
    InvestmentKind,
    PositionType,
    SecurityId,
    SecurityKind,
)
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, fixture

K = InvestmentKind
AS_OF = datetime(2024, 7, 31, 20, 0, tzinfo=UTC)  # no offset written: GMT


def _part() -> StatementPart:
    data = fixture("invest_schwab_ofx2.ofx")
    [part] = [p.unwrap() for p in OfxParser().stream(data, limits=LIMITS, batch_size=1000)]
    return part


def _invest(part: StatementPart) -> InvestmentData:
    assert part.investment is not None
    return part.investment


def _row(t: ParsedInvestmentTransaction) -> tuple[object, ...]:
    return (
        t.provider_transaction_id.removeprefix("20240"),
        t.kind,
        t.trade_date.isoformat(),
        t.security_id.unique_id if t.security_id else None,
        None if t.units is None else str(t.units),
        None if t.unit_price is None else str(t.unit_price),
        str(t.total),
    )


def test_every_transaction_kind_with_its_units_price_and_total() -> None:
    trades = _invest(_part()).transactions
    rows = [_row(t) for t in trades]
    reused = rows[13][0]
    assert isinstance(reused, str)
    assert reused.startswith("71912345013~")
    assert rows == [
        ("70112345001", K.BUY, "2024-07-01", "023135106", "0.4512345678", "221.55", "-99.97"),
        ("70212345002", K.BUY, "2024-07-02", "88160R101", "10", "231.2606", "-2312.63"),
        ("70312345003", K.BUY, "2024-07-03", "808509855", "35.124", "85.4102", "-3000.00"),
        ("70812345004", K.BUY, "2024-07-08", "06051V2K1", "5000", "100", "-5000.00"),
        ("70912345005", K.BUY, "2024-07-09", "AMZN  240719C00200000", "1", "0.85", "-85.66"),
        ("71012345006", K.BUY, "2024-07-10", "XX9999990", "250", "4.00", "-1000.00"),
        # Written "3": a sale takes units out of the account whatever sign the broker uses.
        ("71112345007", K.SELL, "2024-07-11", "023135106", "-3", "195.05", "585.12"),
        ("71212345008", K.SELL, "2024-07-12", "88160R101", "-5", "248.23", "1241.13"),
        ("71512345009", K.SELL, "2024-07-15", "808509855", "-11.7096", "85.4017", "1000.02"),
        ("71612345010", K.SELL, "2024-07-16", "3133EPQC2", "-2000", "100", "2000.00"),
        ("71712345011", K.SELL, "2024-07-17", "AMZN  240816C00210000", "-1", "2.15", "214.33"),
        ("71812345012", K.SELL, "2024-07-18", "XX9999990", "-100", "4.125", "412.50"),
        ("71912345013", K.INCOME, "2024-07-19", "46090E103", None, None, "17.32"),
        (reused, K.INCOME, "2024-07-19", "46090E103", None, None, "1.08"),
        ("73112345014", K.INCOME, "2024-07-31", None, None, None, "0.42"),
        ("72212345015", K.INCOME, "2024-07-22", "808509855", None, None, "10.04"),
        ("72212345016", K.INCOME, "2024-07-22", "808509855", None, None, "2.61"),
        ("72312345017", K.INCOME, "2024-07-23", "88160R101", None, None, "12.40"),
        ("72212345018", K.REINVEST, "2024-07-22", "808509855", "0.118", "85.0847", "-10.04"),
        ("72412345019", K.TRANSFER_IN, "2024-07-24", "46090E103", "15", None, "0"),
        # Written "10" with TFERACTION OUT.
        ("72512345020", K.TRANSFER_OUT, "2024-07-25", "023135106", "-10", None, "0"),
        # 150 became 37 (1 for 4); the half share was paid in cash (FRACCASH).
        ("72612345021", K.SPLIT, "2024-07-26", "XX9999990", "-113", None, "8.25"),
        ("72612345022", K.RETURN_OF_CAPITAL, "2024-07-26", "46090E103", None, None, "0.91"),
        ("73112345023", K.MARGIN_INTEREST, "2024-07-31", None, None, None, "-11.86"),
        ("72912345024", K.JOURNAL_CASH, "2024-07-29", None, None, None, "-500.00"),
        ("72912345025", K.JOURNAL_SECURITY, "2024-07-29", "46090E103", "-4", None, "0"),
        ("71912345026", K.OPTION_EXERCISE, "2024-07-19", "TSLA  240719C00230000", "-1", None, "0"),
        ("71912345027", K.OPTION_ASSIGN, "2024-07-19", "TSLA  240719P00240000", "2", None, "0"),
        ("71912345028", K.OPTION_EXPIRE, "2024-07-19", "AMZN  240719C00200000", "2", None, "0"),
        ("73012345029", K.EXPENSE, "2024-07-30", "US8740391003", None, None, "-0.34"),
        # The first BUYSTOCK again, identical: read once.
    ]
    types = {t.security_id.unique_id_type for t in trades if t.security_id}
    assert types == {"CUSIP", "OCC", "ISIN", "SCHWAB"}


def test_costs_income_types_sub_accounts_and_notes() -> None:
    trades = {t.provider_transaction_id: t for t in _invest(_part()).transactions}
    cover = trades["2024070212345002"]
    assert (cover.commission, cover.fees, cover.taxes) == (Decimal("0"), Decimal("0.02"), None)
    assert (cover.held_in, cover.cash_held_in) == (HeldIn.SHORT, HeldIn.MARGIN)
    assert cover.settle_date == date(2024, 7, 3)
    assert trades["2024071812345012"].taxes == Decimal("0.00")
    assert trades["2024071012345006"].held_in is HeldIn.OTHER
    assert trades["2024070312345003"].load == Decimal("0")
    income = [t.income_type for t in trades.values() if t.kind is K.INCOME]
    assert income == [
        IncomeType.DIVIDEND,
        IncomeType.DIVIDEND,
        IncomeType.INTEREST,
        IncomeType.CAPITAL_GAINS_LONG,
        IncomeType.CAPITAL_GAINS_SHORT,
        IncomeType.MISC,
    ]
    assert trades["2024072212345018"].income_type is IncomeType.CAPITAL_GAINS_LONG
    journal = trades["2024072912345024"]
    assert (journal.cash_held_in, journal.memo) == (
        HeldIn.MARGIN,
        "Journaled Funds; from CASH to MARGIN",
    )
    assert trades["2024071612345010"].memo == "Full Call; called; accrued interest 27.50"
    assert trades["2024071712345011"].memo == "Sell to Open; sell to open"
    assert trades["2024070912345005"].memo == "Buy to Close; buy to close"
    assert trades["2024072612345021"].memo == "Reverse Split; split 1:4"


def test_the_cash_line_without_fitid_gets_a_stable_derived_id() -> None:
    [line] = _part().transactions
    assert (line.amount, line.posted_on, line.payee) == (
        Decimal("2500.00"),
        date(2024, 7, 1),
        "MoneyLink Deposit",
    )
    assert line.provider_transaction_id.startswith("ofx-")
    assert _part().transactions[0].provider_transaction_id == line.provider_transaction_id


def test_a_security_in_two_sub_accounts_is_a_position_in_each() -> None:
    positions = _invest(_part()).positions
    rows = [
        (p.security_id.unique_id, str(p.units), str(p.unit_price), str(p.market_value),
         p.position_type, p.held_in)
        for p in positions
    ]  # fmt: skip
    assert rows == [
        # 11 in CASH and 4 in MARGIN: where the shares are matters (margin can be called)
        ("46090E103", "11", "468.24", "5150.64", PositionType.LONG, HeldIn.CASH),
        ("46090E103", "4", "468.24", "1872.96", PositionType.LONG, HeldIn.MARGIN),
        ("88160R101", "-5", "232.07", "-1160.35", PositionType.SHORT, HeldIn.SHORT),
        ("808509855", "23.5324", "86.12", "2026.61", PositionType.LONG, HeldIn.CASH),
        ("06051V2K1", "5000", "100.012", "5000.60", PositionType.LONG, HeldIn.CASH),
        ("AMZN  240816C00210000", "-1", "1.48", "-148.00", PositionType.SHORT, HeldIn.SHORT),
        ("XX9999990", "37", "16.25", "601.25", PositionType.LONG, HeldIn.OTHER),
    ]
    assert positions[3].price_as_of == datetime(2024, 7, 31, tzinfo=UTC)
    assert positions[-1].memo == "Not priced daily"


def test_the_account_value_and_balances() -> None:
    part = _part()
    # 4120.55 + 7023.60 - 1160.35 + 2026.61 + 5000.60 - 148.00 + 601.25
    assert part.account.balance == Decimal("17464.26")
    assert part.account.balance_as_of == AS_OF
    assert part.account.statement_end == datetime(2024, 7, 31, tzinfo=UTC)
    balance = _invest(part).balance
    assert balance is not None
    assert (
        balance.available_cash,
        balance.margin_balance,
        balance.short_balance,
        balance.buying_power,
    ) == (Decimal("4120.55"), Decimal("0.00"), Decimal("1308.35"), Decimal("12503.10"))
    assert balance.details == {"Cash & Cash Investments": "4120.55", "Margin Equity": "87.3"}
    assert (part.done, part.total) == (32, 32)  # the repeated trade is counted as read


def test_securities_of_every_kind_and_id_scheme() -> None:
    securities = {s.security_id: s for s in _part().securities}
    assert len(securities) == 12
    qqq = securities[SecurityId("46090E103", "CUSIP")]
    assert (qqq.name, qqq.ticker, qqq.kind) == (
        "INVESCO QQQ TR UNIT SER 1",
        "QQQ",
        SecurityKind.ETF,
    )
    tsm = securities[SecurityId("US8740391003", "ISIN")]
    assert (tsm.kind, tsm.currency) == (SecurityKind.STOCK, "USD")
    fund = securities[SecurityId("808509855", "CUSIP")]
    assert (fund.name, fund.kind, fund.unit_price) == (
        "SCHWAB S&P 500 INDEX",
        SecurityKind.MUTUAL_FUND,
        Decimal("86.12"),
    )
    assert fund.price_as_of == datetime(2024, 7, 31, tzinfo=UTC)
    option = securities[SecurityId("AMZN  240816C00210000", "OCC")]
    assert (option.kind, option.unit_price) == (SecurityKind.OPTION, Decimal("1.48"))
    assert securities[SecurityId("3133EPQC2", "CUSIP")].kind is SecurityKind.DEBT
    other = securities[SecurityId("XX9999990", "SCHWAB")]
    assert (other.name, other.ticker, other.kind) == (
        "PRIVATE REIT CLASS I",
        None,
        SecurityKind.OTHER,
    )
