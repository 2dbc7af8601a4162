"""An OFX 1.x (SGML) brokerage statement with every kind of investment transaction.

The file is shaped like a Fidelity QFX download: leaves without end tags, CRLF, a SECLIST
after the statement, an open order. Every unit, price and total is checked as written.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from dashtam.domain.accounts.entities import AccountType
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

EDT = timezone(timedelta(hours=-4))
AS_OF = datetime(2024, 6, 28, 16, 0, tzinfo=EDT)
K = InvestmentKind


def _parts(batch_size: int = 1000) -> list[StatementPart]:
    data = fixture("invest_fidelity_ofx1.qfx")
    return [p.unwrap() for p in OfxParser().stream(data, limits=LIMITS, batch_size=batch_size)]


def _invest(part: StatementPart) -> InvestmentData:
    assert part.investment is not None
    return part.investment


def _row(t: ParsedInvestmentTransaction) -> tuple[object, ...]:
    # Strings: a Decimal is checked exactly as the file wrote it ("10.000", not 10).
    return (
        t.provider_transaction_id.removeprefix("X71234567-"),
        t.kind,
        t.trade_date.isoformat(),
        t.security_id.unique_id if t.security_id else None,
        None if t.units is None else str(t.units),
        None if t.unit_price is None else str(t.unit_price),
        str(t.total),
    )


def test_the_account_is_a_brokerage_account_worth_its_cash_and_positions() -> None:
    [part] = _parts()
    account = part.account
    assert (account.provider_account_id, account.account_type, account.currency) == (
        "X71234567",
        AccountType.BROKERAGE,
        "USD",
    )
    # AVAILCASH 1532.18 + MKTVAL 5265.50 - 893.90 + 5300.20 + 1832.15 + 1013.87 + 9968.75
    assert account.balance == Decimal("24018.75")
    assert account.available_balance == Decimal("1532.18")
    assert account.balance_as_of == account.available_balance_as_of == AS_OF
    assert account.statement_end == AS_OF  # INVTRANLIST/DTEND
    assert _invest(part).as_of == AS_OF
    assert _invest(part).is_401k is False
    assert (part.done, part.total) == (31, 31)


def test_every_transaction_kind_with_its_units_price_and_total() -> None:
    [part] = _parts()
    assert [_row(t) for t in _invest(part).transactions] == [
        ("20240603-2", K.BUY, "2024-06-03", "037833100", "10.000", "194.03", "-1940.30"),
        ("20240604-1", K.BUY, "2024-06-04", "594918104", "5.000", "416.07", "-2080.35"),
        ("20240605-1", K.BUY, "2024-06-05", "315911750", "12.345", "182.39", "-2251.60"),
        ("20240606-1", K.BUY, "2024-06-06", "91282CJL6", "10000", "99.515625", "-9996.89"),
        ("20240607-1", K.BUY, "2024-06-07", "8888475FA", "2", "3.45", "-691.34"),
        ("20240607-2", K.BUY, "2024-06-07", "46138G649", "100", "10.00", "-1000.00"),
        ("20240610-1", K.SELL, "2024-06-10", "037833100", "-5.000", "214.29", "1071.41"),
        ("20240611-1", K.SELL, "2024-06-11", "594918104", "-3.000", "432.68", "1298.01"),
        ("20240612-1", K.SELL, "2024-06-12", "315911750", "-2.500", "186.10", "465.25"),
        ("20240615-1", K.SELL, "2024-06-15", "912797GL5", "-5000", "100", "5000.00"),
        ("20240617-1", K.SELL, "2024-06-17", "8888475FA", "-1", "5.10", "509.33"),
        ("20240617-2", K.SELL, "2024-06-17", "46138G649", "-50", "10.40", "520.00"),
        ("20240613-D", K.INCOME, "2024-06-13", "037833100", None, None, "3.75"),
        ("20240628-I", K.INCOME, "2024-06-28", "31617H102", None, None, "13.87"),
        ("20240620-L", K.INCOME, "2024-06-20", "315911750", None, None, "31.20"),
        ("20240620-S", K.INCOME, "2024-06-20", "315911750", None, None, "4.05"),
        ("20240621-M", K.INCOME, "2024-06-21", "594918104", None, None, "0.75"),
        ("20240628-R", K.REINVEST, "2024-06-28", "31617H102", "13.87", "1.00", "-13.87"),
        ("20240618-T1", K.TRANSFER_IN, "2024-06-18", "922908769", "20", "262.10", "0"),
        ("20240619-T2", K.TRANSFER_OUT, "2024-06-19", "594918104", "-2", None, "0"),
        ("20240610-SP", K.SPLIT, "2024-06-10", "67066G104", "72", None, "0"),  # 80 - 8
        ("20240614-RC", K.RETURN_OF_CAPITAL, "2024-06-14", "756109104", None, None, "6.12"),
        ("20240628-MI", K.MARGIN_INTEREST, "2024-06-28", None, None, None, "-3.41"),
        ("20240624-JF", K.JOURNAL_CASH, "2024-06-24", None, None, None, "250.00"),
        ("20240624-JS", K.JOURNAL_SECURITY, "2024-06-24", "037833100", "5", None, "0"),
        ("20240621-OX", K.OPTION_EXERCISE, "2024-06-21", "8888476GB", "-1", None, "0"),
        ("20240621-OA", K.OPTION_ASSIGN, "2024-06-21", "8888477HC", "1", None, "0"),
        ("20240621-OE", K.OPTION_EXPIRE, "2024-06-21", "8888475FA", "-1", None, "0"),
        ("20240625-FEE", K.EXPENSE, "2024-06-25", "874039100", None, None, "-0.60"),
    ]
    assert all(t.security_id is None or t.security_id.unique_id_type == "CUSIP"
               for t in _invest(part).transactions)  # fmt: skip


def test_costs_dates_income_types_and_sub_accounts() -> None:
    [part] = _parts()
    by_id = {
        t.provider_transaction_id.removeprefix("X71234567-"): t for t in _invest(part).transactions
    }
    buy = by_id["20240607-1"]
    assert (buy.commission, buy.fees, buy.taxes, buy.load) == (
        Decimal("1.30"), Decimal("0.04"), None, None,
    )  # fmt: skip
    assert (buy.trade_date, buy.settle_date) == (date(2024, 6, 7), date(2024, 6, 10))
    assert by_id["20240605-1"].load == Decimal("0.00")
    assert by_id["20240615-1"].settle_date is None
    # INCOME states the tax withheld from it as WITHHOLDING.
    assert by_id["20240621-M"].taxes == Decimal("0.18")
    assert [by_id[k].income_type for k in ("20240613-D", "20240628-I", "20240620-L")] == [
        IncomeType.DIVIDEND,
        IncomeType.INTEREST,
        IncomeType.CAPITAL_GAINS_LONG,
    ]
    assert by_id["20240620-S"].income_type is IncomeType.CAPITAL_GAINS_SHORT
    assert by_id["20240621-M"].income_type is IncomeType.MISC
    assert by_id["20240628-R"].income_type is IncomeType.DIVIDEND
    assert by_id["20240603-2"].income_type is None
    cover, short = by_id["20240604-1"], by_id["20240611-1"]
    assert (cover.held_in, cover.cash_held_in) == (HeldIn.SHORT, HeldIn.MARGIN)
    assert (short.held_in, short.cash_held_in) == (HeldIn.SHORT, HeldIn.MARGIN)
    assert (by_id["20240628-MI"].held_in, by_id["20240628-MI"].cash_held_in) == (
        None, HeldIn.MARGIN,
    )  # fmt: skip
    # A journal lands where SUBACCTTO says; where it came from is told in the memo.
    assert by_id["20240624-JF"].cash_held_in is HeldIn.CASH
    assert by_id["20240624-JS"].held_in is HeldIn.CASH
    assert all(t.source_401k is None for t in _invest(part).transactions)


def test_what_has_no_field_of_its_own_is_told_in_the_memo() -> None:
    [part] = _parts()
    memos = {
        t.provider_transaction_id.removeprefix("X71234567-"): t.memo
        for t in _invest(part).transactions
    }
    assert memos["20240603-2"] == "YOU BOUGHT"
    assert memos["20240604-1"] == "YOU BOUGHT TO COVER; buy to cover"
    assert memos["20240611-1"] == "YOU SOLD SHORT; sell short"
    assert memos["20240607-1"] == "YOU BOUGHT OPENING TRANSACTION; buy to open"
    assert memos["20240617-1"] == "YOU SOLD CLOSING TRANSACTION; sell to close"
    assert memos["20240615-1"] == "REDEMPTION PAYOUT; matured"
    assert memos["20240606-1"] == "YOU BOUGHT US TREASURY NOTE; accrued interest -45.33"
    assert memos["20240610-SP"] == "DISTRIBUTION 10 FOR 1 SPLIT; split 10:1"
    assert memos["20240624-JF"] == "JOURNALED CASH; from MARGIN to CASH"


def test_cash_lines_are_the_accounts_ordinary_transactions() -> None:
    [part] = _parts()
    assert [(t.provider_transaction_id, t.amount, t.posted_on, t.payee, t.memo)
            for t in part.transactions] == [
        ("X71234567-20240603-1", Decimal("5000.00"), date(2024, 6, 3),
         "Electronic Funds Transfer Received", "EFT FROM BANK ****3333"),
        ("X71234567-20240626-1", Decimal("-200.00"), date(2024, 6, 26),
         "Electronic Funds Transfer Paid", "EFT TO BANK ****3333"),
    ]  # fmt: skip


def test_positions_as_written_and_the_cash_balances() -> None:
    [part] = _parts()
    rows = [
        (p.security_id.unique_id, str(p.units), str(p.unit_price), str(p.market_value),
         p.position_type, p.held_in)
        for p in _invest(part).positions
    ]  # fmt: skip
    assert rows == [
        ("037833100", "25.000", "210.62", "5265.50", PositionType.LONG, HeldIn.CASH),
        ("594918104", "-2.000", "446.95", "-893.90", PositionType.SHORT, HeldIn.SHORT),
        ("922908769", "20.000", "265.01", "5300.20", PositionType.LONG, HeldIn.CASH),
        ("315911750", "9.845", "186.10", "1832.15", PositionType.LONG, HeldIn.CASH),
        ("31617H102", "1013.87", "1.00", "1013.87", PositionType.LONG, HeldIn.CASH),
        ("91282CJL6", "10000", "99.6875", "9968.75", PositionType.LONG, HeldIn.CASH),
    ]
    first, bond = _invest(part).positions[0], _invest(part).positions[-1]
    assert first.memo == "Price as of date based on closing price"
    assert first.price_as_of == AS_OF
    assert bond.price_as_of == datetime(2024, 6, 27, 16, 0, tzinfo=EDT)
    assert all(p.cost_basis is None for p in _invest(part).positions)
    balance = _invest(part).balance
    assert balance is not None
    assert (balance.available_cash, balance.margin_balance) == (
        Decimal("1532.18"), Decimal("-250.00"),
    )  # fmt: skip
    assert (balance.short_balance, balance.buying_power) == (Decimal("893.90"), Decimal("3064.36"))
    assert balance.details == {"Settled Cash": "1480.00", "Core Yield": "4.96"}


def test_the_seclist_after_the_statement_comes_with_its_first_part() -> None:
    [part] = _parts()
    securities = {s.security_id.unique_id: s for s in part.securities}
    assert len(part.securities) == 14
    assert {s.security_id.unique_id_type for s in part.securities} == {"CUSIP"}
    apple = securities["037833100"]
    assert (apple.name, apple.ticker, apple.kind) == ("APPLE INC", "AAPL", SecurityKind.STOCK)
    assert (apple.unit_price, apple.price_as_of) == (Decimal("210.62"), AS_OF)
    kinds = {uid: s.kind for uid, s in securities.items()}
    assert kinds["922908769"] is SecurityKind.ETF  # STOCKTYPE says ETF
    assert kinds["315911750"] is SecurityKind.MUTUAL_FUND
    assert kinds["91282CJL6"] is SecurityKind.DEBT
    assert kinds["8888475FA"] is SecurityKind.OPTION
    assert kinds["46138G649"] is SecurityKind.OTHER
    option = securities["8888475FA"]
    # OPTINFO's own SECID names the underlying stock, not the option.
    assert option.security_id == SecurityId("8888475FA", "CUSIP")
    assert option.ticker == "-AAPL240621C200"
    assert securities["91282CJL6"].ticker is None


def test_open_orders_are_reported_skipped() -> None:
    [part] = _parts()
    assert part.skipped == {"open orders": 1}


def test_batches_carry_trades_and_the_last_part_the_positions_and_balances() -> None:
    whole = _parts()[0]
    parts = _parts(batch_size=10)
    assert [len(p.transactions) + len(_invest(p).transactions) for p in parts] == [
        10, 10, 10, 1,
    ]  # fmt: skip
    assert [p.done for p in parts] == [10, 20, 30, 31]
    assert all(p.investment is not None for p in parts)
    assert [bool(p.securities) for p in parts] == [True, False, False, False]
    assert [p.skipped for p in parts] == [{"open orders": 1}, {}, {}, {}]
    assert all(not _invest(p).positions and _invest(p).balance is None
               for p in parts[:-1])  # fmt: skip
    assert all(p.account.balance is None for p in parts[:-1])
    assert parts[-1].account.balance == Decimal("24018.75")
    assert [t for p in parts for t in _invest(p).transactions] == list(_invest(whole).transactions)
    assert [t for p in parts for t in p.transactions] == list(whole.transactions)


def test_the_same_file_gives_the_same_ids() -> None:
    first, again = _parts()[0], _parts()[0]
    ids = [t.provider_transaction_id for t in _invest(first).transactions]
    assert ids == [t.provider_transaction_id for t in _invest(again).transactions]
    assert len(set(ids)) == len(ids) == 29
