"""Bank and investment statements in one file: all imported, in file order."""

from __future__ import annotations

import tracemalloc
from decimal import Decimal

from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import InvestmentData
from dashtam.domain.imports.statement import StatementPart
from dashtam.domain.investments.entities import SecurityKind
from dashtam.infrastructure.importers.ofx import OfxParser
from tests.unit.importers.support import LIMITS, OFX2_HEADER, fixture


def _parts(name: str, batch_size: int = 1000) -> list[StatementPart]:
    data = fixture(name)
    return [p.unwrap() for p in OfxParser().stream(data, limits=LIMITS, batch_size=batch_size)]


def _invest(part: StatementPart) -> InvestmentData:
    assert part.investment is not None
    return part.investment


def test_a_checking_account_and_two_brokerage_accounts_in_file_order() -> None:
    parts = _parts("invest_mixed_bank_ofx1.qfx")
    assert [(p.account.provider_account_id, p.account.account_type) for p in parts] == [
        ("440012345678", AccountType.CHECKING),
        ("2468-1357", AccountType.BROKERAGE),
        ("9753-8642", AccountType.BROKERAGE),
    ]
    assert parts[0].investment is None
    assert [p.account.balance for p in parts] == [
        Decimal("6210.44"),
        Decimal("1516.80"),  # 13.20 + 1503.60
        Decimal("5513.70"),  # 0.50 + 5513.20
    ]
    assert [[t.provider_transaction_id for t in p.transactions] for p in parts] == [
        ["CHK-1002-1", "CHK-1015-1"],
        ["1"],
        [],
    ]
    # The broker numbers each account's trades from 1, and its cash lines apart.
    assert [[t.provider_transaction_id for t in _invest(p).transactions] for p in parts[1:]] == [
        ["1", "2"],
        ["1"],
    ]
    assert [(p.done, p.total) for p in parts] == [(2, 6), (5, 6), (6, 6)]


def test_the_seclist_goes_with_the_first_investment_part_not_the_first_part() -> None:
    parts = _parts("invest_mixed_bank_ofx1.qfx")
    assert [len(p.securities) for p in parts] == [0, 1, 0]
    [etf] = parts[1].securities
    assert (etf.name, etf.ticker, etf.kind) == (
        "SCHWAB US LARGE-CAP ETF",
        "SCHX",
        SecurityKind.ETF,  # FIASSETCLASS says ETF
    )


def _big_investment_statement(count: int) -> bytes:
    trade = (
        "<BUYMF><INVBUY><INVTRAN><FITID>T{0:07d}</FITID><DTTRADE>2024{1:02d}{2:02d}</DTTRADE>"
        "<MEMO>AUTOMATIC INVESTMENT PLAN CONTRIBUTION {0}</MEMO></INVTRAN>"
        "<SECID><UNIQUEID>9229087{3:02d}</UNIQUEID><UNIQUEIDTYPE>CUSIP</UNIQUEIDTYPE></SECID>"
        "<UNITS>0.{0:07d}</UNITS><UNITPRICE>101.2345</UNITPRICE><TOTAL>-{4}.00</TOTAL>"
        "<SUBACCTSEC>CASH</SUBACCTSEC><SUBACCTFUND>CASH</SUBACCTFUND></INVBUY>"
        "<BUYTYPE>BUY</BUYTYPE></BUYMF>\n"
    )
    trades = "".join(
        trade.format(i, 1 + i % 12, 1 + i % 28, i % 50, 1 + i % 900) for i in range(count)
    )
    return (
        OFX2_HEADER + "<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS><DTASOF>20241231</DTASOF>"
        "<CURDEF>USD</CURDEF><INVACCTFROM><BROKERID>b</BROKERID><ACCTID>A</ACCTID></INVACCTFROM>"
        f"<INVTRANLIST>{trades}</INVTRANLIST></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>"
    ).encode()


def test_a_long_investment_statement_streams_in_batches_without_holding_the_file() -> None:
    data = _big_investment_statement(3_000)
    tracemalloc.start()
    try:
        sizes = [
            len(_invest(p.unwrap()).transactions)
            for p in OfxParser().stream(data, limits=LIMITS, batch_size=250)
        ]
        _, streamed_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        [whole] = OfxParser().stream(data, limits=LIMITS, batch_size=len(data))
        _, whole_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sizes == [250] * 12 + [0]  # the closing part carries what follows the trades
    assert len(_invest(whole.unwrap()).transactions) == 3_000
    # One batch and ~140 bytes a trade (digests that tell reused FITIDs apart).
    assert streamed_peak * 3 < whole_peak, (streamed_peak, whole_peak)
    assert streamed_peak < len(data), (streamed_peak, len(data))
