"""The ``HoldingRepository`` contract: positions per statement, exact, idempotent, owned.

Run on the fakes and both databases by ``test_investment_repositories``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from dashtam.domain.investments.entities import HeldIn, PositionType, SecurityKind
from tests.contracts.finance_contract import DAY
from tests.contracts.harness import Harness
from tests.contracts.investment_contract import (
    brokerage,
    described,
    position,
    securities,
)
from tests.contracts.repositories import Repositories
from tests.contracts.user_repository_contract import error_of


class HoldingRepositoryContract:
    async def test_units_and_prices_round_trip_exactly(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(
            harness.adapter, described("1", "Tiny"), described("2", "Huge"), described("3", "Px")
        )
        positions = [
            (ids["1"], position("1", "0.0000000001", "0.0000000001", "0.0001")),
            (ids["2"], position("2", "123456789012.3456789012", "1", "99999999999.9999")),
            (ids["3"], position("3", "-2.5", "1234.5678901234", "-3086.4197", cost_basis=None)),
        ]
        added = await harness.adapter.holdings.add_snapshot(account.id, "USD", DAY[4], positions)
        assert added.unwrap() == 3
        stored = (await (await harness.reopen()).holdings.at(account.id, None)).unwrap()
        by_name = {h.security.name: h for h in stored}
        tiny, huge, px = by_name["Tiny"], by_name["Huge"], by_name["Px"]
        assert (str(tiny.units), str(tiny.unit_price)) == ("1E-10", "1E-10")
        assert str(huge.units) == "123456789012.3456789012"
        assert huge.market_value == Decimal("99999999999.9999")
        assert (px.units, str(px.unit_price)) == (Decimal("-2.5"), "1234.5678901234")
        assert str(px.market_value) == "-3086.4197"
        assert all(h.as_of == DAY[4] and h.currency == "USD" for h in stored)

    @pytest.mark.parametrize(
        ("units", "price", "value"),
        [
            ("0.00000000001", "1", "1"),  # an eleventh place in units
            ("1", "1.00000000001", "1"),  # ... and in a price
            ("1", "1", "1.00001"),  # a fifth place in money
        ],
    )
    async def test_a_digit_that_would_be_rounded_is_refused(
        self, harness: Harness[Repositories], units: str, price: str, value: str
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "X"))
        repositories = await harness.reopen()
        refused = await repositories.holdings.add_snapshot(
            account.id, "USD", DAY[1], [(ids["1"], position("1", units, price, value))]
        )
        assert error_of(refused).code == "database_error"
        assert (await (await harness.discard()).holdings.at(account.id, None)).unwrap() == []

    async def test_floats_are_refused(self, harness: Harness[Repositories]) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "X"))
        repositories = await harness.reopen()
        floating = replace(position("1", "1", "1", "1"), units=0.1)  # type: ignore[arg-type]
        refused = await repositories.holdings.add_snapshot(
            account.id, "USD", DAY[1], [(ids["1"], floating)]
        )
        assert error_of(refused).code == "database_error"

    async def test_a_snapshot_imported_again_adds_nothing(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "A"), described("2", "B"))
        snapshot = [
            (ids["1"], position("1", "10", "5", "50")),
            (ids["2"], position("2", "1", "2", "2")),
        ]
        holdings = harness.adapter.holdings
        assert (await holdings.add_snapshot(account.id, "USD", DAY[3], snapshot)).unwrap() == 2
        assert (await holdings.add_snapshot(account.id, "USD", DAY[3], snapshot)).unwrap() == 0
        repositories = await harness.reopen()
        again = await repositories.holdings.add_snapshot(account.id, "USD", DAY[3], snapshot)
        assert again.unwrap() == 0
        assert len((await (await harness.reopen()).holdings.at(account.id, None)).unwrap()) == 2

    async def test_long_in_cash_and_short_in_margin_at_once_and_lots_summed(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "Both"))
        short = {"position_type": PositionType.SHORT, "held_in": HeldIn.MARGIN}
        snapshot = [
            (ids["1"], position("1", "10", "5.25", "52.50", cost_basis=Decimal("40"))),
            (ids["1"], position("1", "-4", "5.25", "-21.00", **short)),
            (ids["1"], position("1", "2.5", "5.25", "13.13", cost_basis=Decimal("12.5"))),
        ]
        added = await harness.adapter.holdings.add_snapshot(account.id, "USD", DAY[6], snapshot)
        assert added.unwrap() == 2
        stored = (await (await harness.reopen()).holdings.at(account.id, DAY[6])).unwrap()
        by_type = {h.position_type: h for h in stored}
        long, held_short = by_type[PositionType.LONG], by_type[PositionType.SHORT]
        assert (long.units, long.market_value, long.cost_basis) == (
            Decimal("12.5"),
            Decimal("65.63"),
            Decimal("52.5"),
        )
        assert long.unrealised_gain == Decimal("13.13")
        assert (held_short.units, held_short.held_in, held_short.cost_basis) == (
            Decimal("-4"),
            HeldIn.MARGIN,
            None,
        )

    async def test_at_finds_the_snapshot_at_or_before_a_time(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "A"), described("2", "B"))
        holdings = harness.adapter.holdings
        early = [(ids["1"], position("1", "1", "10", "10"))]
        late = [
            (ids["1"], position("1", "2", "11", "22")),
            (ids["2"], position("2", "3", "1", "3")),
        ]
        (await holdings.add_snapshot(account.id, "USD", DAY[5], early)).unwrap()
        (await holdings.add_snapshot(account.id, "USD", DAY[15], late)).unwrap()
        holdings = (await harness.reopen()).holdings

        async def units_at(moment: object) -> list[Decimal]:
            found = (await holdings.at(account.id, moment)).unwrap()  # type: ignore[arg-type]
            assert len({h.as_of for h in found}) <= 1
            return sorted(h.units for h in found)

        assert await units_at(None) == [Decimal(2), Decimal(3)]
        assert await units_at(DAY[15]) == [Decimal(2), Decimal(3)]
        assert await units_at(DAY[14]) == [Decimal(1)]
        assert await units_at(DAY[5]) == [Decimal(1)]
        assert await units_at(DAY[4]) == []

    async def test_latest_for_user_takes_each_account_latest_and_shares_securities(
        self, harness: Harness[Repositories]
    ) -> None:
        mine = await brokerage(harness.adapter, "me@example.com", "B-1")
        theirs = await brokerage(harness.adapter, "them@example.com", "B-2")
        ids = await securities(harness.adapter, described("1", "Shared", kind=SecurityKind.ETF))
        holdings = harness.adapter.holdings
        shared = ids["1"]
        (
            await holdings.add_snapshot(
                mine.id, "USD", DAY[1], [(shared, position("1", "1", "1", "1"))]
            )
        ).unwrap()
        (
            await holdings.add_snapshot(
                mine.id, "USD", DAY[9], [(shared, position("1", "9", "1", "9"))]
            )
        ).unwrap()
        (
            await holdings.add_snapshot(
                theirs.id, "EUR", DAY[2], [(shared, position("1", "5", "2", "10"))]
            )
        ).unwrap()
        repositories = await harness.reopen()
        [own] = (await repositories.holdings.latest_for_user(mine.user_id)).unwrap()
        [other] = (await repositories.holdings.latest_for_user(theirs.user_id)).unwrap()
        assert (own.account_id, own.units, own.as_of) == (mine.id, Decimal(9), DAY[9])
        assert (other.account_id, other.units, other.currency) == (theirs.id, Decimal(5), "EUR")
        assert own.security == other.security
        assert (own.security.id, own.security.name, own.security.kind) == (
            shared,
            "Shared",
            SecurityKind.ETF,
        )
        # A rename reaches every holder's positions: the security is shared, not copied.
        (await repositories.securities.upsert([described("1", "Renamed")], as_of=DAY[20])).unwrap()
        [renamed] = (await (await harness.reopen()).holdings.at(theirs.id, None)).unwrap()
        assert renamed.security.name == "Renamed"

    async def test_a_snapshot_for_an_unknown_account_is_refused(
        self, harness: Harness[Repositories]
    ) -> None:
        account = await brokerage(harness.adapter)
        ids = await securities(harness.adapter, described("1", "A"))
        repositories = await harness.reopen()
        (await repositories.accounts.delete(account.id)).unwrap()
        refused = await repositories.holdings.add_snapshot(
            account.id, "USD", DAY[1], [(ids["1"], position("1", "1", "1", "1"))]
        )
        assert error_of(refused).code == "integrity_error"
