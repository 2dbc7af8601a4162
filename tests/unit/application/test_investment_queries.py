"""InvestmentQueries: owner-scoped, audited reads of positions, trades, securities and value;
net worth dated by the oldest price behind it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from dashtam.application.finance.queries import (
    CurrencyTotals,
    FinanceQueries,
    net_worth_by_currency,
)
from dashtam.application.investments.queries import (
    InvestmentQueries,
    SearchInvestmentTransactions,
)
from dashtam.application.investments.views import positions_by_security, value_totals
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Result
from dashtam.domain.accounts.entities import Account, AccountType
from dashtam.domain.audit import AuditAction, AuditOutcome, ResourceType
from dashtam.domain.investments.entities import HeldIn, Holding, InvestmentKind, Security
from dashtam.domain.investments.repository import (
    InvestmentTransactionCursor,
    InvestmentTransactionQuery,
)
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeStore
from tests.fakes.read_audit import FakeReadAuditLog
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import OWNER, STRANGER, seed_connection
from tests.unit.application.investment_support import (
    FEBRUARY,
    FUND_NAV,
    JANUARY,
    JANUARY_PRICES,
    Seeded,
    brokerage_account,
    seed_statements,
)
from tests.unit.application.support import error_of

Read = Callable[[InvestmentQueries, Seeded], Awaitable[Result[object, Error]]]


def search(
    seeded: Seeded,
    *,
    limit: int = 50,
    after: InvestmentTransactionCursor | None = None,
    **filters: Any,
) -> SearchInvestmentTransactions:
    query = InvestmentTransactionQuery(account_id=seeded.account.id, **filters)
    return SearchInvestmentTransactions(
        user_id=OWNER, query=query, after=after, limit=limit, context=CONTEXT
    )


READS: dict[str, tuple[Read, ResourceType]] = {
    "holdings": (lambda q, s: q.holdings(OWNER, s.account.id, None, CONTEXT), ResourceType.HOLDING),
    "all_holdings": (lambda q, s: q.all_holdings(OWNER, CONTEXT), ResourceType.HOLDING),
    "portfolio": (lambda q, s: q.portfolio(OWNER, CONTEXT), ResourceType.HOLDING),
    "security": (lambda q, s: q.security(s.apple, CONTEXT), ResourceType.SECURITY),
    "investment_transactions": (
        lambda q, s: q.transaction_page(search(s)),
        ResourceType.INVESTMENT_TRANSACTION,
    ),
    "value_history": (
        lambda q, s: q.value_history(OWNER, s.account.id, CONTEXT),
        ResourceType.HOLDING,
    ),
}
OWNED_READS = ["holdings", "investment_transactions", "value_history"]


async def seed(store: FakeStore, user_id: UUID = OWNER, number: str = "BRK-0001") -> Seeded:
    connection = seed_connection(store, user_id=user_id)
    async with store.uow() as uow:
        account = await brokerage_account(uow, connection.user_id, connection.id, number=number)
        seeded = await seed_statements(uow, account)
        (await uow.commit()).unwrap()
    return seeded


@pytest.fixture
async def mine(store: FakeStore) -> Seeded:
    return await seed(store)


@pytest.fixture
async def theirs(store: FakeStore, mine: Seeded) -> Seeded:
    return await seed(store, STRANGER, number="THEIRS-9")


@pytest.fixture
def queries(store: FakeStore) -> InvestmentQueries:
    return InvestmentQueries(uow_factory=store.uow, audit_log=FakeReadAuditLog(store))


@pytest.mark.parametrize("view", READS)
async def test_each_read_writes_one_sensitive_read_entry(
    store: FakeStore, queries: InvestmentQueries, mine: Seeded, theirs: Seeded, view: str
) -> None:
    before = dict(store.holdings), dict(store.investment_transactions), dict(store.securities)
    read, resource_type = READS[view]
    (await read(queries, mine)).unwrap()
    [entry] = store.audit_log
    assert (entry.action, entry.outcome) == (
        AuditAction.FINANCIAL_DATA_READ,
        AuditOutcome.SUCCEEDED,
    )
    assert (entry.resource_type, entry.metadata["view"]) == (resource_type, view)
    assert entry.ip_address == CONTEXT.ip_address
    after = dict(store.holdings), dict(store.investment_transactions), dict(store.securities)
    assert after == before
    assert store.outbox == []


@pytest.mark.parametrize("view", OWNED_READS)
async def test_another_users_account_is_not_found_and_recorded_as_a_probe(
    store: FakeStore, queries: InvestmentQueries, mine: Seeded, theirs: Seeded, view: str
) -> None:
    read, _ = READS[view]
    unknown = replace(mine, account=replace(mine.account, id=new_id()))
    for target in (theirs, unknown):
        error = error_of(await read(queries, target))
        assert isinstance(error, NotFoundError)
        assert error.message == "account not found"
    assert store.audit_entries(outcome=AuditOutcome.SUCCEEDED) == []
    probes = store.audit_entries(outcome=AuditOutcome.FAILED)
    assert [(e.resource_type, e.resource_id) for e in probes] == [
        (ResourceType.ACCOUNT, theirs.account.id),
        (ResourceType.ACCOUNT, unknown.account.id),
    ]


async def test_holdings_are_the_latest_snapshot_with_its_cash(
    queries: InvestmentQueries, mine: Seeded, theirs: Seeded
) -> None:
    found = (await queries.holdings(OWNER, mine.account.id, None, CONTEXT)).unwrap()
    assert found.account.id == mine.account.id
    assert {h.as_of for h in found.holdings} == {FEBRUARY}
    units = {h.security.id: h.units for h in found.holdings}
    assert units == {mine.apple: Decimal(12), mine.fund: Decimal("0.0000000001")}
    assert (found.available_cash, found.cash_as_of) == (Decimal("250.50"), FEBRUARY)
    [usd] = found.totals
    assert (usd.currency, usd.cash, usd.positions, usd.total) == (
        "USD",
        Decimal("250.50"),
        Decimal("1920.00"),
        Decimal("2170.50"),
    )


async def test_holdings_as_of_an_earlier_time_are_that_statements(
    queries: InvestmentQueries, mine: Seeded
) -> None:
    february_eve = datetime(2025, 2, 27, tzinfo=UTC)
    found = (await queries.holdings(OWNER, mine.account.id, february_eve, CONTEXT)).unwrap()
    assert {h.as_of for h in found.holdings} == {JANUARY}
    prices = {h.security.id: h.unit_price for h in found.holdings}
    assert prices == {mine.apple: Decimal("150.25"), mine.fund: FUND_NAV}
    assert (found.available_cash, found.cash_as_of) == (Decimal("100.00"), JANUARY)
    assert found.totals[0].total == Decimal("1652.56")  # 100.00 + 1502.50 + 50.06

    before = datetime(2024, 12, 31, tzinfo=UTC)
    empty = (await queries.holdings(OWNER, mine.account.id, before, CONTEXT)).unwrap()
    assert (list(empty.holdings), empty.available_cash, empty.totals) == ([], None, [])


async def test_all_holdings_sum_each_security_over_the_owners_accounts(
    store: FakeStore, queries: InvestmentQueries, mine: Seeded, theirs: Seeded
) -> None:
    second = await seed(store, number="BRK-0002")
    positions = (await queries.all_holdings(OWNER, CONTEXT)).unwrap()
    assert [(p.security.name, p.currency) for p in positions] == [
        ("Apple Inc.", "USD"),
        ("Total Stock Market Index", "USD"),
    ]
    apple = positions[0]
    assert (apple.units, apple.market_value) == (Decimal(24), Decimal("3840.00"))
    assert {a.account_id for a in apple.accounts} == {mine.account.id, second.account.id}
    assert {(a.units, a.market_value, a.as_of) for a in apple.accounts} == {
        (Decimal(12), Decimal("1920.00"), FEBRUARY)
    }
    entry = store.audit_entries(action=AuditAction.FINANCIAL_DATA_READ)[-1]
    assert entry.metadata["count"] == 4  # the four holdings read, none of the stranger's


async def test_a_security_is_shared_and_a_missing_one_is_not_found(
    store: FakeStore, queries: InvestmentQueries, mine: Seeded
) -> None:
    apple = (await queries.security(mine.apple, CONTEXT)).unwrap()
    assert (apple.ticker, apple.unique_id, apple.unique_id_type) == ("AAPL", "037833100", "CUSIP")
    missing = new_id()
    error = error_of(await queries.security(missing, CONTEXT))
    assert isinstance(error, NotFoundError)
    assert error.message == "security not found"
    [probe] = store.audit_entries(outcome=AuditOutcome.FAILED)
    assert (probe.resource_type, probe.resource_id) == (ResourceType.SECURITY, missing)


async def test_investment_transactions_page_newest_first_with_a_cursor_only_when_more(
    queries: InvestmentQueries, mine: Seeded
) -> None:
    first = (await queries.transaction_page(search(mine, limit=4))).unwrap()
    assert [t.provider_transaction_id for t in first.items] == ["T6", "T5", "T4", "T3"]
    assert first.next_after == InvestmentTransactionCursor(
        first.items[-1].trade_date, first.items[-1].id
    )
    rest = (await queries.transaction_page(search(mine, after=first.next_after))).unwrap()
    assert [t.provider_transaction_id for t in rest.items] == ["T2", "T1"]
    assert rest.next_after is None
    # A page that ends exactly at the last row says so: no empty page to fetch.
    exact = (await queries.transaction_page(search(mine, limit=6))).unwrap()
    assert (len(exact.items), exact.next_after) == (6, None)
    clamped = await queries.transaction_page(search(mine, limit=10_000), max_limit=2)
    assert len(clamped.unwrap().items) == 2


async def test_investment_transactions_are_filtered(
    queries: InvestmentQueries, mine: Seeded
) -> None:
    async def ids(**kw: Any) -> list[str]:
        page = (await queries.transaction_page(search(mine, **kw))).unwrap()
        return [t.provider_transaction_id for t in page.items]

    assert await ids(security_id=mine.apple) == ["T5", "T3", "T1"]
    assert await ids(kind=InvestmentKind.BUY) == ["T5", "T1"]
    assert await ids(security_id=mine.apple, kind=InvestmentKind.SELL) == ["T3"]
    assert await ids(trade_from=date(2025, 2, 5), trade_to=date(2025, 2, 9)) == ["T4", "T3", "T2"]


async def test_value_history_is_cash_plus_positions_oldest_first(
    queries: InvestmentQueries, mine: Seeded
) -> None:
    history = (await queries.value_history(OWNER, mine.account.id, CONTEXT)).unwrap()
    assert history.account.id == mine.account.id
    assert [(p.as_of, p.cash, p.positions, p.total) for p in history.points] == [
        (JANUARY, Decimal("100.00"), Decimal("1552.56"), Decimal("1652.56")),
        (FEBRUARY, Decimal("250.50"), Decimal("1920.00"), Decimal("2170.50")),
    ]


async def test_a_failing_repository_fails_the_read_unaudited(
    store: FakeStore, queries: InvestmentQueries, mine: Seeded
) -> None:
    store.faults.fail_next("holdings.latest_balance", DatabaseError("db down"))
    assert isinstance(
        error_of(await queries.holdings(OWNER, mine.account.id, None, CONTEXT)), DatabaseError
    )
    assert store.audit_log == []


# --- net worth --------------------------------------------------------------------------


async def test_net_worth_is_dated_by_the_oldest_price_of_the_latest_positions(
    store: FakeStore, mine: Seeded, theirs: Seeded
) -> None:
    queries = FinanceQueries(uow_factory=store.uow, audit_log=FakeReadAuditLog(store))
    [usd] = (await queries.net_worth(OWNER, CONTEXT)).unwrap()
    # February's positions state no price date: the statement's time stands for it.
    assert usd == CurrencyTotals(
        currency="USD", assets=Decimal("2170.50"), liabilities=Decimal(0), prices_as_of=FEBRUARY
    )
    [entry] = store.audit_log
    assert (entry.resource_type, entry.metadata["view"]) == (ResourceType.ACCOUNT, "net_worth")


def account(currency: str, balance: str | None) -> Account:
    return Account(
        user_id=OWNER,
        connection_id=new_id(),
        provider_account_id=f"{currency}-{balance}",
        name=currency,
        account_type=AccountType.BROKERAGE,
        currency=currency,
        balance=Decimal(balance) if balance is not None else None,
    )


def holding(owner: Account, as_of: datetime, price_as_of: datetime | None = None) -> Holding:
    return Holding(
        account_id=owner.id,
        security=Security(unique_id="X", unique_id_type="TICKER", name="X"),
        as_of=as_of,
        units=Decimal(1),
        unit_price=Decimal(1),
        market_value=Decimal(1),
        currency=owner.currency,
        price_as_of=price_as_of,
    )


def test_net_worth_prices_as_of_is_per_currency_and_null_without_positions() -> None:
    usd, eur, gbp, unvalued = (
        account("USD", "10"),
        account("EUR", "20"),
        account("GBP", "30"),
        account("USD", None),
    )
    holdings = [
        holding(usd, FEBRUARY),  # no price date: the statement's time stands for it
        holding(usd, FEBRUARY, JANUARY_PRICES),
        holding(eur, JANUARY),
        # An account without a balance values nothing, so its old price dates nothing.
        holding(unvalued, JANUARY, datetime(2020, 1, 1, tzinfo=UTC)),
    ]
    totals = net_worth_by_currency([usd, eur, gbp, unvalued], holdings)
    assert [(t.currency, t.assets, t.prices_as_of) for t in totals] == [
        ("EUR", Decimal(20), JANUARY),
        ("GBP", Decimal(30), None),
        ("USD", Decimal(10), JANUARY_PRICES),
    ]
    assert [t.prices_as_of for t in net_worth_by_currency([usd])] == [None]


def test_one_accounts_lines_of_a_security_are_one_share_and_currencies_stay_apart() -> None:
    usd, other = account("USD", "1"), account("USD", "2")
    cash_side = replace(holding(usd, JANUARY), units=Decimal("1.5"), market_value=Decimal(3))
    margin_side = replace(cash_side, id=new_id(), held_in=HeldIn.MARGIN, as_of=FEBRUARY)
    elsewhere = replace(cash_side, id=new_id(), account_id=other.id)
    in_euros = replace(cash_side, id=new_id(), currency="EUR")
    positions = positions_by_security([cash_side, margin_side, elsewhere, in_euros])
    assert [(p.currency, p.units, p.market_value) for p in positions] == [
        ("EUR", Decimal("1.5"), Decimal(3)),
        ("USD", Decimal("4.5"), Decimal(9)),
    ]
    shares = [(a.account_id, a.units, a.market_value, a.as_of) for a in positions[1].accounts]
    assert shares == [
        (usd.id, Decimal(3), Decimal(6), FEBRUARY),
        (other.id, Decimal("1.5"), Decimal(3), JANUARY),
    ]
    assert [(t.currency, t.positions) for t in value_totals(positions)] == [
        ("EUR", Decimal(3)),
        ("USD", Decimal(9)),
    ]
