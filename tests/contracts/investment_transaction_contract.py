"""The ``InvestmentTransactionRepository`` contract: upsert counts, exactness, search.

Run on the fakes and both databases by ``test_investment_repositories``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from dashtam.domain.accounts.entities import Account
from dashtam.domain.imports.investments import ParsedInvestmentTransaction
from dashtam.domain.investments.entities import (
    HeldIn,
    IncomeType,
    InvestmentKind,
    InvestmentTransaction,
)
from dashtam.domain.investments.repository import (
    InvestmentTransactionCursor,
    InvestmentTransactionQuery,
)
from dashtam.domain.transactions.repository import UpsertCounts
from tests.contracts.finance_contract import DAY
from tests.contracts.harness import Harness
from tests.contracts.investment_contract import brokerage, described, securities, trade
from tests.contracts.repositories import Repositories
from tests.contracts.user_repository_contract import error_of


async def write(
    repositories: Repositories,
    account: Account,
    *items: tuple[UUID | None, ParsedInvestmentTransaction],
    as_of: int | None = None,
) -> UpsertCounts:
    statement_as_of = DAY[as_of] if as_of is not None else None
    written = await repositories.investment_transactions.upsert_batch(
        account.id, "USD", items, statement_as_of=statement_as_of
    )
    return written.unwrap()


async def stored(repositories: Repositories, account: Account) -> dict[str, InvestmentTransaction]:
    query = InvestmentTransactionQuery(account_id=account.id)
    found = await repositories.investment_transactions.search(query, after=None, limit=1000)
    return {t.provider_transaction_id: t for t in found.unwrap()}


class InvestmentTransactionRepositoryContract:
    async def test_upsert_counts_new_updated_unchanged_and_outdated(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "A"), described("2", "B"))
        buy = (ids["1"], trade("buy", units=Decimal("10"), unit_price=Decimal("9.5")))
        fee = (None, trade("fee", "-5.00", kind=InvestmentKind.MARGIN_INTEREST))
        div = (ids["2"], trade("div", "3.10", kind=InvestmentKind.INCOME))
        first = await write(harness.adapter, account, buy, fee, div, as_of=10)
        assert first == UpsertCounts(new=3)
        repositories = await harness.reopen()
        assert await write(repositories, account, buy, fee, div, as_of=10) == UpsertCounts(
            unchanged=3
        )
        corrected = (ids["2"], replace(div[1], income_type=IncomeType.DIVIDEND))
        same_buy = (ids["1"], replace(buy[1], units=Decimal("10.0000000000")))
        newer = await write(repositories, account, same_buy, corrected, as_of=20)
        assert newer == UpsertCounts(updated=1, unchanged=1)
        # An older statement imported later: the corrected row stays, what is new is added.
        older = (ids["2"], replace(div[1], total=Decimal("9.99")))
        late = await write(
            await harness.reopen(), account, older, (None, trade("new", "1")), as_of=15
        )
        assert late == UpsertCounts(new=1, outdated=1)
        rows = await stored(await harness.reopen(), account)
        assert sorted(rows) == ["buy", "div", "fee", "new"]
        assert (rows["div"].income_type, rows["div"].total) == (IncomeType.DIVIDEND, Decimal("3.1"))
        assert (rows["div"].statement_as_of, rows["buy"].statement_as_of) == (DAY[20], DAY[10])

    async def test_the_last_occurrence_wins_and_a_row_keeps_its_id_and_currency(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        batch = [(None, trade("x", "1")), (None, trade("x", "2", memo="second"))]
        written = await harness.adapter.investment_transactions.upsert_batch(
            account.id, "EUR", batch
        )
        assert written.unwrap() == UpsertCounts(new=1)
        [original] = (await stored(harness.adapter, account)).values()
        repositories = await harness.reopen()
        assert await write(repositories, account, (None, trade("x", "5"))) == UpsertCounts(
            updated=1
        )
        [row] = (await stored(await harness.reopen(), account)).values()
        assert (row.id, row.currency, row.total, row.memo) == (
            original.id,
            "EUR",
            Decimal("5"),
            None,
        )

    async def test_every_column_round_trips_exactly(self, harness: Harness[Repositories]) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "Fund"))
        full = trade(
            "full",
            "-123456.7891",
            3,
            kind=InvestmentKind.REINVEST,
            settle_date=date(2024, 11, 5),
            units=Decimal("123456789012.3456789012"),
            unit_price=Decimal("1234.5678901234"),
            commission=Decimal("0.0001"),
            fees=Decimal("1.25"),
            taxes=Decimal("-0.5"),
            load=Decimal("99999999999.9999"),
            income_type=IncomeType.CAPITAL_GAINS_LONG,
            held_in=HeldIn.CASH,
            cash_held_in=HeldIn.MARGIN,
            source_401k="PRETAX",
            memo="reinvested",
        )
        tiny = trade("tiny", "0", units=Decimal("0.0000000001"), unit_price=Decimal("0"))
        await write(harness.adapter, account, (ids["1"], full), (ids["1"], tiny), as_of=5)
        rows = await stored(await harness.reopen(), account)
        row = rows["full"]
        assert (row.kind, row.trade_date, row.settle_date) == (
            InvestmentKind.REINVEST,
            date(2024, 11, 3),
            date(2024, 11, 5),
        )
        assert (str(row.units), str(row.unit_price)) == (
            "123456789012.3456789012",
            "1234.5678901234",
        )
        assert (row.commission, row.fees, row.taxes, row.load, row.total) == (
            Decimal("0.0001"),
            Decimal("1.25"),
            Decimal("-0.5"),
            Decimal("99999999999.9999"),
            Decimal("-123456.7891"),
        )
        assert (row.income_type, row.held_in, row.cash_held_in, row.source_401k, row.memo) == (
            IncomeType.CAPITAL_GAINS_LONG,
            HeldIn.CASH,
            HeldIn.MARGIN,
            "PRETAX",
            "reinvested",
        )
        assert row.security is not None
        assert row.security.name == "Fund"
        assert (str(rows["tiny"].units), rows["tiny"].unit_price) == ("1E-10", Decimal(0))
        again = await write(harness.adapter, account, (ids["1"], full), (ids["1"], tiny), as_of=5)
        assert again == UpsertCounts(unchanged=2)

    async def test_rounding_and_floats_are_refused(self, harness: Harness[Repositories]) -> None:
        account = await brokerage(harness.adapter)
        repositories = await harness.reopen()
        for bad in (
            trade("u", units=Decimal("1.00000000001")),
            trade("p", unit_price=Decimal("0.00000000001")),
            trade("t", "1.00001"),
            trade("f", units=0.5),  # type: ignore[arg-type]
        ):
            refused = await repositories.investment_transactions.upsert_batch(
                account.id, "USD", [(None, bad)]
            )
            assert error_of(refused).code == "database_error"
            repositories = await harness.discard()
        assert await stored(repositories, account) == {}

    async def test_the_cursor_walks_every_row_once_newest_first(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        days = [3, 1, 3, 7, 3, 2, 7, 5]
        items = [(None, trade(f"t{n}", day=day)) for n, day in enumerate(days)]
        await write(harness.adapter, account, *items)
        repositories = await harness.reopen()
        query = InvestmentTransactionQuery(account_id=account.id)
        seen: list[InvestmentTransaction] = []
        after: InvestmentTransactionCursor | None = None
        while True:
            page = await repositories.investment_transactions.search(query, after=after, limit=3)
            rows = page.unwrap()
            if not rows:
                break
            seen += rows
            after = InvestmentTransactionCursor(rows[-1].trade_date, rows[-1].id)
        assert sorted(t.provider_transaction_id for t in seen) == sorted(f"t{n}" for n in range(8))
        keys = [(t.trade_date, t.id) for t in seen]
        assert keys == sorted(keys, reverse=True)
        assert len(set(keys)) == len(days)

    async def test_search_applies_every_filter(self, harness: Harness[Repositories]) -> None:
        account = await brokerage(harness.adapter)
        other = await brokerage(harness.adapter, "other@example.com", "B-9")
        ids = await securities(harness.adapter, described("1", "A"), described("2", "B"))
        sell = InvestmentKind.SELL
        await write(
            harness.adapter,
            account,
            (ids["1"], trade("a1", day=1)),
            (ids["1"], trade("a2", day=5, kind=sell)),
            (ids["2"], trade("b1", day=9)),
            (None, trade("cash", day=5, kind=InvestmentKind.JOURNAL_CASH)),
        )
        await write(harness.adapter, other, (ids["1"], trade("elsewhere", day=5)))
        repositories = await harness.reopen()

        async def found(**kw: object) -> list[str]:
            query = InvestmentTransactionQuery(account_id=account.id, **kw)  # type: ignore[arg-type]
            rows = await repositories.investment_transactions.search(query, after=None, limit=50)
            return sorted(t.provider_transaction_id for t in rows.unwrap())

        assert await found() == ["a1", "a2", "b1", "cash"]
        assert await found(security_id=ids["1"]) == ["a1", "a2"]
        assert await found(kind=sell) == ["a2"]
        assert await found(trade_from=date(2024, 11, 5)) == ["a2", "b1", "cash"]
        assert await found(trade_to=date(2024, 11, 5)) == ["a1", "a2", "cash"]
        assert await found(security_id=ids["1"], kind=InvestmentKind.BUY) == ["a1"]
        limited = await repositories.investment_transactions.search(
            InvestmentTransactionQuery(account_id=account.id), after=None, limit=1
        )
        assert [t.provider_transaction_id for t in limited.unwrap()] == ["b1"]

    async def test_a_batch_for_an_unknown_account_is_refused(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        repositories = await harness.reopen()
        (await repositories.accounts.delete(account.id)).unwrap()
        refused = await repositories.investment_transactions.upsert_batch(
            account.id, "USD", [(None, trade("a"))]
        )
        assert error_of(refused).code == "integrity_error"

    async def test_of_securities_gives_their_trades_up_to_a_date_oldest_first(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        other = await brokerage(harness.adapter, "other@example.com", "B-9")
        ids = await securities(
            harness.adapter, described("1", "A"), described("2", "B"), described("3", "C")
        )
        days = [7, 3, 3, 1, 3]
        await write(
            harness.adapter,
            account,
            *((ids["1"], trade(f"a{n}", day=day)) for n, day in enumerate(days)),
            (ids["2"], trade("b", day=2, units=Decimal("1.0000000001"))),
            (ids["2"], trade("b-late", day=9)),
            (ids["3"], trade("c", day=2)),
            (None, trade("cash", day=2, kind=InvestmentKind.JOURNAL_CASH)),
        )
        await write(harness.adapter, other, (ids["1"], trade("elsewhere", day=2)))
        repositories = await harness.reopen()
        found = await repositories.investment_transactions.of_securities(
            account.id, {ids["1"], ids["2"]}, through=date(2024, 11, 7)
        )
        rows = found.unwrap()
        assert sorted(t.provider_transaction_id for t in rows) == [
            "a0",
            "a1",
            "a2",
            "a3",
            "a4",
            "b",
        ]
        keys = [(t.trade_date, t.id) for t in rows]
        assert keys == sorted(keys)
        assert len(set(keys)) == len(rows)
        by_fitid = {t.provider_transaction_id: t for t in rows}
        assert by_fitid["b"].security is not None
        assert (by_fitid["b"].security.name, str(by_fitid["b"].units)) == ("B", "1.0000000001")
        empty = await repositories.investment_transactions.of_securities(
            account.id, set(), through=date(2024, 11, 30)
        )
        assert empty.unwrap() == []
