"""The cash side of ``HoldingRepository`` (balances, value history) and the account cascade.

Run on the fakes and both databases by ``test_investment_repositories``.
"""

from __future__ import annotations

from decimal import Decimal

from dashtam.domain.imports.investments import ParsedInvestmentBalance
from dashtam.domain.investments.entities import ValuePoint
from dashtam.domain.investments.repository import InvestmentTransactionQuery
from tests.contracts.finance_contract import DAY
from tests.contracts.harness import Harness
from tests.contracts.investment_contract import (
    brokerage,
    cusip,
    described,
    position,
    securities,
    trade,
)
from tests.contracts.repositories import Repositories
from tests.contracts.user_repository_contract import error_of


def cash(available: str | None, **kw: Decimal) -> ParsedInvestmentBalance:
    return ParsedInvestmentBalance(
        available_cash=Decimal(available) if available is not None else None, **kw
    )


class InvestmentCashContract:
    async def test_a_balance_is_stored_once_per_time_and_the_latest_is_found(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        holdings = harness.adapter.holdings
        assert (await holdings.latest_balance(account.id)).unwrap() is None
        full = ParsedInvestmentBalance(
            available_cash=Decimal("1000.5"),
            margin_balance=Decimal("-250.1234"),
            short_balance=Decimal("0"),
            buying_power=Decimal("99999999999.9999"),
            details={"Dividends YTD": "12.34", "PRETAX": "5000.00"},
        )
        assert (await holdings.add_balance(account.id, DAY[9], full)).unwrap() is True
        assert (await holdings.add_balance(account.id, DAY[3], cash("1"))).unwrap() is True
        holdings = (await harness.reopen()).holdings
        assert (await holdings.add_balance(account.id, DAY[9], cash("7"))).unwrap() is False
        latest = (await holdings.latest_balance(account.id)).unwrap()
        assert latest is not None
        assert (latest.as_of, latest.available_cash, latest.margin_balance) == (
            DAY[9],
            Decimal("1000.5"),
            Decimal("-250.1234"),
        )
        assert (latest.short_balance, latest.buying_power) == (
            Decimal(0),
            Decimal("99999999999.9999"),
        )
        assert dict(latest.details) == {"Dividends YTD": "12.34", "PRETAX": "5000.00"}

    async def test_a_balance_with_a_fifth_decimal_place_is_refused(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        repositories = await harness.reopen()
        refused = await repositories.holdings.add_balance(
            account.id, DAY[1], cash(None, buying_power=Decimal("0.00001"))
        )
        assert error_of(refused).code == "database_error"
        assert (
            await (await harness.discard()).holdings.latest_balance(account.id)
        ).unwrap() is None

    async def test_value_history_adds_cash_and_positions_per_statement(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "A"), described("2", "B"))
        holdings = harness.adapter.holdings
        first = [
            (ids["1"], position("1", "10", "10", "100.10")),
            (ids["2"], position("2", "1", "5", "5.0001")),
        ]
        (await holdings.add_snapshot(account.id, "USD", DAY[2], first)).unwrap()
        (await holdings.add_balance(account.id, DAY[2], cash("50.25"))).unwrap()
        # Cash only (sold everything? not stated): positions count as zero at that time.
        (await holdings.add_balance(account.id, DAY[6], cash("200"))).unwrap()
        later = [(ids["1"], position("1", "-3", "10", "-30"))]
        (await holdings.add_snapshot(account.id, "USD", DAY[9], later)).unwrap()
        (await holdings.add_balance(account.id, DAY[12], cash(None))).unwrap()
        other = await brokerage(harness.adapter, "other@example.com", "B-2")
        (await harness.adapter.holdings.add_balance(other.id, DAY[2], cash("1"))).unwrap()
        history = (await (await harness.reopen()).holdings.value_history(account.id)).unwrap()
        assert list(history) == [
            ValuePoint(as_of=DAY[2], cash=Decimal("50.25"), positions=Decimal("105.1001")),
            ValuePoint(as_of=DAY[6], cash=Decimal("200"), positions=Decimal(0)),
            ValuePoint(as_of=DAY[9], cash=Decimal(0), positions=Decimal("-30")),
            ValuePoint(as_of=DAY[12], cash=Decimal(0), positions=Decimal(0)),
        ]
        assert [point.total for point in history] == [
            Decimal("155.3501"),
            Decimal(200),
            Decimal(-30),
            Decimal(0),
        ]
        [elsewhere] = (await harness.adapter.holdings.value_history(other.id)).unwrap()
        assert (elsewhere.cash, elsewhere.positions) == (Decimal(1), Decimal(0))

    async def test_deleting_an_account_deletes_its_investments_but_not_securities(
        self, harness: Harness[Repositories]
    ) -> None:
        doomed = await brokerage(harness.adapter, "a@example.com", "B-1")
        kept = await brokerage(harness.adapter, "b@example.com", "B-2")
        ids = await securities(harness.adapter, described("1", "Shared"))
        for account in (doomed, kept):
            repositories = harness.adapter
            snapshot = [(ids["1"], position("1", "1", "2", "2"))]
            (await repositories.holdings.add_snapshot(account.id, "USD", DAY[1], snapshot)).unwrap()
            (await repositories.holdings.add_balance(account.id, DAY[1], cash("3"))).unwrap()
            batch = [(ids["1"], trade("t"))]
            (
                await repositories.investment_transactions.upsert_batch(account.id, "USD", batch)
            ).unwrap()
        repositories = await harness.reopen()
        (await repositories.accounts.delete(doomed.id)).unwrap()

        async def gone(reader: Repositories) -> None:
            assert (await reader.holdings.at(doomed.id, None)).unwrap() == []
            assert (await reader.holdings.latest_for_user(doomed.user_id)).unwrap() == []
            assert (await reader.holdings.latest_balance(doomed.id)).unwrap() is None
            assert (await reader.holdings.value_history(doomed.id)).unwrap() == []
            query = InvestmentTransactionQuery(account_id=doomed.id)
            found = await reader.investment_transactions.search(query, after=None, limit=10)
            assert found.unwrap() == []
            assert len((await reader.holdings.at(kept.id, None)).unwrap()) == 1
            assert (await reader.securities.get(ids["1"])).unwrap() is not None

        await gone(repositories)  # within the deleting transaction
        await gone(await harness.reopen())  # and once committed
        # The security is still there to be shared: upserting it again finds the same row.
        again = await harness.adapter.securities.upsert([described("1", "Shared")], as_of=None)
        assert again.unwrap() == {cusip("1"): ids["1"]}
