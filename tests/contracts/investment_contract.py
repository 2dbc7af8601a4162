"""The ``SecurityRepository`` contract, and the helpers of every investment contract.

``test_investment_repositories`` runs these on the fakes, SQLite and PostgreSQL. Securities are
shared by every user; positions and trades point at accounts, so cases build their owners
through the bundle's ``users``, ``connections`` and ``accounts`` first.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from dashtam.domain.accounts.entities import Account, AccountType
from dashtam.domain.imports.investments import (
    ParsedInvestmentTransaction,
    ParsedPosition,
    ParsedSecurity,
)
from dashtam.domain.investments.entities import (
    InvestmentKind,
    SecurityId,
    SecurityKind,
)
from tests.contracts.finance_contract import DAY, account_data, add_account, add_owner
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories


def cusip(number: str) -> SecurityId:
    return SecurityId(number, "CUSIP")


def described(number: str, name: str, **kw: Any) -> ParsedSecurity:
    return ParsedSecurity(security_id=cusip(number), name=name, **kw)


def position(number: str, units: str, price: str, value: str, **kw: Any) -> ParsedPosition:
    return ParsedPosition(
        security_id=cusip(number),
        units=Decimal(units),
        unit_price=Decimal(price),
        market_value=Decimal(value),
        **kw,
    )


def trade(
    fitid: str, total: str = "-100.00", day: int = 1, **kw: Any
) -> ParsedInvestmentTransaction:
    values: dict[str, Any] = {"kind": InvestmentKind.BUY, "trade_date": date(2024, 11, day)}
    return ParsedInvestmentTransaction(
        provider_transaction_id=fitid, total=Decimal(total), **{**values, **kw}
    )


async def brokerage(
    repositories: Repositories, email: str = "investor@example.com", number: str = "B-1"
) -> Account:
    owner = await add_owner(repositories, email)
    data = account_data(
        *owner, number, name=f"Brokerage {number}", account_type=AccountType.BROKERAGE
    )
    return await add_account(repositories, data)


async def securities(repositories: Repositories, *items: ParsedSecurity) -> dict[str, UUID]:
    """Upsert as of DAY[0]; the ids by CUSIP."""
    ids = (await repositories.securities.upsert(items, as_of=DAY[0])).unwrap()
    return {key.unique_id: value for key, value in ids.items()}


class SecurityRepositoryContract:
    async def test_upsert_creates_and_returns_the_same_ids_again(
        self, harness: Harness[Repositories]
    ) -> None:
        items = [
            described("037833100", "Apple Inc.", ticker="AAPL", kind=SecurityKind.STOCK),
            described("922908363", "Vanguard 500", kind=SecurityKind.MUTUAL_FUND, currency="USD"),
        ]
        first = (await harness.adapter.securities.upsert(items, as_of=DAY[3])).unwrap()
        assert set(first) == {cusip("037833100"), cusip("922908363")}
        repositories = await harness.reopen()
        again = (await repositories.securities.upsert(items, as_of=DAY[3])).unwrap()
        assert dict(again) == dict(first)
        apple = (await repositories.securities.get(first[cusip("037833100")])).unwrap()
        assert apple is not None
        assert (apple.unique_id, apple.unique_id_type, apple.name, apple.ticker) == (
            "037833100",
            "CUSIP",
            "Apple Inc.",
            "AAPL",
        )
        assert (apple.kind, apple.currency, apple.info_as_of) == (SecurityKind.STOCK, None, DAY[3])
        fund = (await repositories.securities.get(first[cusip("922908363")])).unwrap()
        assert fund is not None
        assert (fund.kind, fund.currency) == (SecurityKind.MUTUAL_FUND, "USD")

    async def test_the_newest_statement_names_a_security(
        self, harness: Harness[Repositories]
    ) -> None:
        upsert = harness.adapter.securities.upsert
        ids = (await upsert([described("1", "Old Name", ticker="OLD")], as_of=DAY[10])).unwrap()
        security_id = ids[cusip("1")]
        newer = described("1", "New Name", ticker="NEW", kind=SecurityKind.ETF)
        assert (await upsert([newer], as_of=DAY[20])).unwrap() == {cusip("1"): security_id}
        securities = (await harness.reopen()).securities
        older = described("1", "Ancient Name", ticker="ANC", kind=SecurityKind.STOCK)
        (await securities.upsert([older], as_of=DAY[15])).unwrap()
        stored = (await securities.get(security_id)).unwrap()
        assert stored is not None
        assert (stored.name, stored.ticker, stored.kind, stored.info_as_of) == (
            "New Name",
            "NEW",
            SecurityKind.ETF,
            DAY[20],
        )
        # A file as new as the stored description wins too; a ticker it omits stays.
        (await securities.upsert([described("1", "Same Day Name")], as_of=DAY[20])).unwrap()
        renamed = (await (await harness.reopen()).securities.get(security_id)).unwrap()
        assert renamed is not None
        assert (renamed.name, renamed.ticker, renamed.kind) == (
            "Same Day Name",
            "NEW",
            SecurityKind.OTHER,
        )

    async def test_a_referenced_security_is_named_by_the_first_file_that_describes_it(
        self, harness: Harness[Repositories]
    ) -> None:
        securities = harness.adapter.securities
        referenced = ParsedSecurity(security_id=cusip("2"), name="2")
        ids = (await securities.upsert([referenced], as_of=None)).unwrap()
        created = (await securities.get(ids[cusip("2")])).unwrap()
        assert created is not None
        assert (created.name, created.kind, created.info_as_of) == ("2", SecurityKind.OTHER, None)
        described_later = described("2", "Described", ticker="DSC", kind=SecurityKind.DEBT)
        (await securities.upsert([described_later], as_of=DAY[1])).unwrap()
        # Referenced again (as_of=None): a stored security is never changed.
        (await securities.upsert([referenced], as_of=None)).unwrap()
        stored = (await (await harness.reopen()).securities.get(ids[cusip("2")])).unwrap()
        assert stored is not None
        assert (stored.name, stored.ticker, stored.kind, stored.info_as_of) == (
            "Described",
            "DSC",
            SecurityKind.DEBT,
            DAY[1],
        )

    async def test_the_last_description_in_a_batch_wins_and_types_are_separate(
        self, harness: Harness[Repositories]
    ) -> None:
        isin = ParsedSecurity(security_id=SecurityId("3", "ISIN"), name="By ISIN")
        batch = [described("3", "First"), isin, described("3", "Second")]
        ids = (await harness.adapter.securities.upsert(batch, as_of=DAY[2])).unwrap()
        assert len(set(ids.values())) == 2
        securities = (await harness.reopen()).securities
        by_cusip = (await securities.get(ids[cusip("3")])).unwrap()
        by_isin = (await securities.get(ids[SecurityId("3", "ISIN")])).unwrap()
        assert by_cusip is not None
        assert by_isin is not None
        assert (by_cusip.name, by_isin.name) == ("Second", "By ISIN")

    async def test_an_empty_batch_and_an_unknown_id(self, harness: Harness[Repositories]) -> None:
        securities = harness.adapter.securities
        assert dict((await securities.upsert([], as_of=DAY[0])).unwrap()) == {}
        assert (await securities.get(UUID(int=7))).unwrap() is None
