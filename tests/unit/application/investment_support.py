"""A brokerage account's two statements, written through the ports (fake or SQL alike).

January: 10 AAPL at 150.25 (cost 1200.00) and 0.5 of a fund at a 10-place NAV (no cost), cash
100.00. February: 12 AAPL at 160 (cost 1500.00) and 0.0000000001 of the fund, cash 250.50.
Six trades on six days, two of them AAPL buys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.domain.accounts.entities import Account, AccountType
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.imports.investments import (
    ParsedInvestmentBalance,
    ParsedInvestmentTransaction,
    ParsedPosition,
    ParsedSecurity,
)
from dashtam.domain.investments.entities import (
    IncomeType,
    InvestmentKind,
    SecurityId,
    SecurityKind,
)

JANUARY = datetime(2025, 1, 31, 16, tzinfo=UTC)
FEBRUARY = datetime(2025, 2, 28, 16, tzinfo=UTC)
JANUARY_PRICES = datetime(2025, 1, 30, 21, tzinfo=UTC)
APPLE = SecurityId("037833100", "CUSIP")
FUND = SecurityId("922908728", "CUSIP")
FUND_NAV = Decimal("100.1234567891")
SECURITIES = [
    ParsedSecurity(security_id=APPLE, name="Apple Inc.", ticker="AAPL", kind=SecurityKind.STOCK),
    ParsedSecurity(
        security_id=FUND, name="Total Stock Market Index", kind=SecurityKind.MUTUAL_FUND
    ),
]


@dataclass(frozen=True, slots=True)
class Seeded:
    account: Account
    apple: UUID
    fund: UUID


def position(
    security: SecurityId,
    units: str,
    price: str,
    value: str,
    cost: str | None = None,
    *,
    price_as_of: datetime | None = None,
) -> ParsedPosition:
    return ParsedPosition(
        security_id=security,
        units=Decimal(units),
        unit_price=Decimal(price),
        market_value=Decimal(value),
        cost_basis=Decimal(cost) if cost is not None else None,
        price_as_of=price_as_of,
    )


def trade(
    fitid: str, kind: InvestmentKind, day: int, total: str, security: SecurityId | None = None
) -> ParsedInvestmentTransaction:
    units = {InvestmentKind.BUY: "2", InvestmentKind.SELL: "-1"}.get(kind)
    return ParsedInvestmentTransaction(
        provider_transaction_id=fitid,
        kind=kind,
        trade_date=date(2025, 2, day),
        settle_date=date(2025, 2, day + 2) if kind is InvestmentKind.BUY else None,
        total=Decimal(total),
        security_id=security,
        units=Decimal(units) if units else None,
        unit_price=Decimal("155.125") if units else None,
        commission=Decimal("4.95") if kind is InvestmentKind.BUY else None,
        income_type=IncomeType.DIVIDEND if kind is InvestmentKind.INCOME else None,
        memo=f"trade {fitid}",
    )


TRADES = [
    trade("T1", InvestmentKind.BUY, 3, "-315.20", APPLE),
    trade("T2", InvestmentKind.INCOME, 5, "12.34", FUND),
    trade("T3", InvestmentKind.SELL, 7, "155.00", APPLE),
    trade("T4", InvestmentKind.MARGIN_INTEREST, 9, "-1.50"),
    trade("T5", InvestmentKind.BUY, 11, "-315.20", APPLE),
    trade("T6", InvestmentKind.REINVEST, 13, "0", FUND),
]


async def brokerage_account(
    uow: UnitOfWork,
    user_id: UUID,
    connection_id: UUID,
    *,
    number: str = "BRK-0001",
    currency: str = "USD",
    balance: str | None = "2170.50",
) -> Account:
    upserted = await uow.accounts.upsert(
        AccountUpsert(
            user_id=user_id,
            connection_id=connection_id,
            provider_account_id=number,
            name=f"Brokerage {number}",
            account_type=AccountType.BROKERAGE,
            currency=currency,
            balance=Decimal(balance) if balance is not None else None,
            balance_as_of=FEBRUARY if balance is not None else None,
        )
    )
    return upserted.unwrap()[0]


async def seed_statements(uow: UnitOfWork, account: Account) -> Seeded:
    """Both statements and the trades, in ``uow`` (the caller commits)."""
    ids = (await uow.securities.upsert(SECURITIES, as_of=FEBRUARY)).unwrap()
    apple, fund = ids[APPLE], ids[FUND]
    january = [
        (apple, position(APPLE, "10", "150.25", "1502.50", "1200.00", price_as_of=JANUARY_PRICES)),
        (fund, position(FUND, "0.5", str(FUND_NAV), "50.06")),
    ]
    february = [
        (apple, position(APPLE, "12", "160", "1920.00", "1500.00")),
        (fund, position(FUND, "0.0000000001", "110", "0.00")),
    ]
    holdings = uow.holdings
    (await holdings.add_snapshot(account.id, account.currency, JANUARY, january)).unwrap()
    (await holdings.add_snapshot(account.id, account.currency, FEBRUARY, february)).unwrap()
    cash = {JANUARY: "100.00", FEBRUARY: "250.50"}
    for as_of, available in cash.items():
        balance = ParsedInvestmentBalance(available_cash=Decimal(available))
        (await holdings.add_balance(account.id, as_of, balance)).unwrap()
    batch = [(ids[t.security_id] if t.security_id else None, t) for t in TRADES]
    counts = await uow.investment_transactions.upsert_batch(
        account.id, account.currency, batch, statement_as_of=FEBRUARY
    )
    counts.unwrap()
    return Seeded(account=account, apple=apple, fund=fund)
