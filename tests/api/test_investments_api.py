"""The investments API on both databases: positions (now and as of a date), positions across
accounts, securities, trades with cursor paging, value history, net worth's price date; every
read owner-scoped and audited. Data is written through the repositories (see
``tests/unit/application/investment_support.py``), independent of the import."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import pytest

from dashtam.application.finance.commands import MAX_TRANSACTION_PAGE
from dashtam.infrastructure.persistence.models import AuditLogModel
from dashtam.presentation.decimals import quantity_text
from tests.api.finance_support import NET_WORTH_URL, connect, sign_up
from tests.api.support import ME_URL, FastContainer, assert_problem, fetch
from tests.unit.application.investment_support import (
    FEBRUARY,
    JANUARY,
    Seeded,
    brokerage_account,
    seed_statements,
)

ACCOUNTS_URL = "/api/v1/accounts"


async def seed(
    client: httpx.AsyncClient,
    container: FastContainer,
    headers: dict[str, str],
    number: str = "BRK-0001",
) -> Seeded:
    """A brokerage account of the signed-in user with two statements, committed."""
    user_id = UUID((await client.get(ME_URL, headers=headers)).json()["id"])
    connection_id = UUID(await connect(client, headers, "ofx-file"))
    async with container.unit_of_work() as uow:
        account = await brokerage_account(uow, user_id, connection_id, number=number)
        seeded = await seed_statements(uow, account)
        (await uow.commit()).unwrap()
    return seeded


async def get(client: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await client.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def apple_json(seeded: Seeded) -> dict[str, Any]:
    return {
        "id": str(seeded.apple),
        "unique_id": "037833100",
        "unique_id_type": "CUSIP",
        "ticker": "AAPL",
        "name": "Apple Inc.",
        "kind": "stock",
        "currency": None,
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("0.5000000000", "0.5"),
        ("10.0000000000", "10"),
        ("0.0000000001", "0.0000000001"),
        ("1E+1", "10"),
        ("-2.50", "-2.5"),
        ("0E-10", "0"),
        ("123456789.1234567891", "123456789.1234567891"),
    ],
)
def test_quantities_are_exact_text_without_exponents(value: str, text: str) -> None:
    assert quantity_text(Decimal(value)) == text


async def test_account_holdings_now_and_as_of_a_date(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)
    url = f"{ACCOUNTS_URL}/{mine.account.id}/holdings"

    body = await get(client, url, ada)
    assert (at(body["as_of"]), body["currency"]) == (FEBRUARY, "USD")
    assert (body["available_cash"], at(body["cash_as_of"])) == ("250.50", FEBRUARY)
    assert body["totals"] == [
        {"currency": "USD", "cash": "250.50", "positions": "1920.00", "total": "2170.50"}
    ]
    apple, fund = sorted(body["items"], key=lambda item: item["security"]["name"])
    assert apple["security"] == apple_json(mine)
    as_of = apple.pop("as_of")
    assert at(as_of) == FEBRUARY
    assert apple == {
        "security": apple_json(mine),
        "units": "12",
        "unit_price": "160",
        "market_value": "1920.00",
        "currency": "USD",
        "price_as_of": None,
        "position_type": "long",
        "held_in": "cash",
        "cost_basis": "1500.00",
        "unrealised_gain": "420.00",
    }
    assert (fund["units"], fund["unit_price"], fund["market_value"]) == (
        "0.0000000001",
        "110",
        "0.00",
    )
    assert (fund["security"]["kind"], fund["cost_basis"], fund["unrealised_gain"]) == (
        "mutual_fund",
        None,
        None,
    )

    # A day reaches through its end: January's statement is that day's 16:00.
    for as_of in ("2025-01-31", "2025-02-28T15:59:59Z", "2025-02-28T17:59:59+02:00"):
        january = await get(client, url, ada, as_of=as_of)
        assert at(january["as_of"]) == JANUARY, as_of
        units = {i["security"]["ticker"]: (i["units"], i["unit_price"]) for i in january["items"]}
        assert units == {"AAPL": ("10", "150.25"), None: ("0.5", "100.1234567891")}
        assert january["available_cash"] == "100.00"
        assert january["totals"][0]["total"] == "1652.56"
    before = await get(client, url, ada, as_of="2025-01-31T15:00:00")  # no offset: UTC
    assert (before["items"], before["as_of"], before["available_cash"], before["totals"]) == (
        [],
        None,
        None,
        [],
    )


@pytest.mark.parametrize("as_of", ["0", "1700000000", "2025-13-01", "yesterday", "2025-1-31"])
async def test_an_as_of_that_is_not_a_date_or_time_is_refused(
    client: httpx.AsyncClient, container: FastContainer, as_of: str
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)
    response = await client.get(
        f"{ACCOUNTS_URL}/{mine.account.id}/holdings", params={"as_of": as_of}, headers=ada
    )
    body = assert_problem(response, status=422, code="validation_error")
    assert body["errors"][0]["location"] == "query.as_of"


async def test_the_document_states_the_as_of_text_accepted(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/accounts/{account_id}/holdings"]["get"]
    [as_of] = [p["schema"] for p in operation["parameters"] if p["name"] == "as_of"]
    assert as_of["type"] == "string"
    for accepted in ("2025-01-31", "2025-02-28T15:59:59Z", "2025-02-28T17:59:59.5+02:00"):
        assert re.fullmatch(as_of["pattern"], accepted), accepted
    for refused in ("0", "1700000000", "yesterday", "2025-1-31"):
        assert not re.fullmatch(as_of["pattern"], refused), refused


async def test_all_holdings_are_summed_by_security_with_each_accounts_share(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    first = await seed(client, container, ada)
    second = await seed(client, container, ada, number="BRK-0002")
    eve = await sign_up(client, "eve@example.com")
    await seed(client, container, eve, number="EVE-1")

    body = await get(client, "/api/v1/holdings", ada)
    assert [(i["security"]["name"], i["currency"]) for i in body["items"]] == [
        ("Apple Inc.", "USD"),
        ("Total Stock Market Index", "USD"),
    ]
    apple, fund = body["items"]
    assert (apple["units"], apple["market_value"]) == ("24", "3840.00")
    assert (fund["units"], fund["market_value"]) == ("0.0000000002", "0.00")
    shares = {a["account_id"]: (a["units"], a["market_value"]) for a in apple["accounts"]}
    assert shares == {
        str(first.account.id): ("12", "1920.00"),
        str(second.account.id): ("12", "1920.00"),
    }
    assert {at(a["as_of"]) for a in apple["accounts"]} == {FEBRUARY}
    assert body["totals"] == [{"currency": "USD", "market_value": "3840.00"}]

    nobody = await sign_up(client, "nobody@example.com")
    assert await get(client, "/api/v1/holdings", nobody) == {"items": [], "totals": []}


async def test_a_security_is_readable_by_any_signed_in_user(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)
    eve = await sign_up(client, "eve@example.com")

    assert await get(client, f"/api/v1/securities/{mine.apple}", eve) == apple_json(mine)
    missing = await client.get(f"/api/v1/securities/{mine.account.id}", headers=ada)
    assert_problem(missing, status=404, code="not_found")
    malformed = await client.get("/api/v1/securities/not-a-uuid", headers=ada)
    assert_problem(malformed, status=422, code="validation_error")
    anonymous = await client.get(f"/api/v1/securities/{mine.apple}")
    assert anonymous.status_code == 401


async def test_investment_transactions_page_with_an_opaque_cursor(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)
    url = f"{ACCOUNTS_URL}/{mine.account.id}/investment-transactions"

    first = await get(client, url, ada, limit=4)
    assert [t["provider_transaction_id"] for t in first["items"]] == ["T6", "T5", "T4", "T3"]
    assert first["next_cursor"]
    rest = await get(client, url, ada, limit=4, cursor=first["next_cursor"])
    assert [t["provider_transaction_id"] for t in rest["items"]] == ["T2", "T1"]
    assert rest["next_cursor"] is None
    exact = await get(client, url, ada, limit=6)
    assert (len(exact["items"]), exact["next_cursor"]) == (6, None)

    buy = rest["items"][1]
    assert at(buy.pop("statement_as_of")) == FEBRUARY
    assert buy.pop("created_at")
    assert UUID(buy.pop("id"))
    assert buy == {
        "account_id": str(mine.account.id),
        "provider_transaction_id": "T1",
        "kind": "buy",
        "trade_date": "2025-02-03",
        "settle_date": "2025-02-05",
        "total": "-315.20",
        "currency": "USD",
        "security": apple_json(mine),
        "units": "2",
        "unit_price": "155.125",
        "commission": "4.95",
        "fees": None,
        "taxes": None,
        "load": None,
        "income_type": None,
        "held_in": None,
        "cash_held_in": None,
        "source_401k": None,
        "memo": "trade T1",
    }
    interest = first["items"][2]
    assert (interest["kind"], interest["security"], interest["units"]) == (
        "margin_interest",
        None,
        None,
    )


async def test_investment_transactions_are_filtered(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)
    url = f"{ACCOUNTS_URL}/{mine.account.id}/investment-transactions"

    async def ids(**params: str) -> list[str]:
        body = await get(client, url, ada, **params)
        return [t["provider_transaction_id"] for t in body["items"]]

    assert await ids(security=str(mine.apple)) == ["T5", "T3", "T1"]
    assert await ids(kind="buy") == ["T5", "T1"]
    assert await ids(security=str(mine.fund), kind="income") == ["T2"]
    assert await ids(**{"from": "2025-02-05", "to": "2025-02-09"}) == ["T4", "T3", "T2"]
    assert await ids(security=str(mine.account.id)) == []

    for params in (
        {"kind": "purchase"},
        {"limit": str(MAX_TRANSACTION_PAGE + 1)},
        {"limit": "0"},
        {"cursor": "not-a-cursor"},
        {"from": "0"},
        {"security": "AAPL"},
    ):
        response = await client.get(url, params=params, headers=ada)
        body = assert_problem(response, status=422, code="validation_error")
        assert body["errors"][0]["location"] == f"query.{next(iter(params))}", params


async def test_value_history_is_cash_plus_positions_oldest_first(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)

    body = await get(client, f"{ACCOUNTS_URL}/{mine.account.id}/value-history", ada)
    assert (body["account_id"], body["currency"]) == (str(mine.account.id), "USD")
    assert [(at(p.pop("as_of")), p) for p in body["items"]] == [
        (JANUARY, {"cash": "100.00", "positions": "1552.56", "total": "1652.56"}),
        (FEBRUARY, {"cash": "250.50", "positions": "1920.00", "total": "2170.50"}),
    ]


async def test_net_worth_counts_the_account_and_dates_its_prices(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    await seed(client, container, ada)

    [usd] = (await get(client, NET_WORTH_URL, ada))["items"]
    assert at(usd.pop("prices_as_of")) == FEBRUARY  # no price dates: the statement's time
    assert usd == {
        "currency": "USD",
        "assets": "2170.50",
        "liabilities": "0.00",
        "net_worth": "2170.50",
    }


async def test_another_users_account_is_not_found_and_each_read_is_audited(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    mine = await seed(client, container, ada)
    eve = await sign_up(client, "eve@example.com")
    owned = [
        f"{ACCOUNTS_URL}/{mine.account.id}/holdings",
        f"{ACCOUNTS_URL}/{mine.account.id}/investment-transactions",
        f"{ACCOUNTS_URL}/{mine.account.id}/value-history",
    ]
    (await container.read_audit_log.flush()).unwrap()
    before = {row.id for row in await fetch(container, AuditLogModel)}

    for url in owned:
        probe = await client.get(url, headers=eve)
        body = assert_problem(probe, status=404, code="not_found")
        assert "BRK-0001" not in probe.text, body
        assert "Apple" not in probe.text, body
    for url in [*owned, "/api/v1/holdings", f"/api/v1/securities/{mine.apple}"]:
        await get(client, url, ada)
    (await container.read_audit_log.flush()).unwrap()

    rows = [r for r in await fetch(container, AuditLogModel) if r.id not in before]
    seen = sorted((r.outcome, r.resource_type, str(r.resource_id), r.details["view"]) for r in rows)
    account, apple = str(mine.account.id), str(mine.apple)
    assert {r.action for r in rows} == {"financial_data.read"}
    assert seen == sorted(
        [
            ("failed", "account", account, "holdings"),
            ("failed", "account", account, "investment_transactions"),
            ("failed", "account", account, "value_history"),
            ("succeeded", "holding", account, "holdings"),
            ("succeeded", "investment_transaction", account, "investment_transactions"),
            ("succeeded", "holding", account, "value_history"),
            ("succeeded", "holding", "None", "all_holdings"),
            ("succeeded", "security", apple, "security"),
        ]
    )
