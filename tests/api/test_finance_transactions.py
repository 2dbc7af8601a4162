"""``GET /transactions``: exact string amounts, filters, newest first, cursor pagination."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.finance_support import (
    CARD_ACCTID,
    CHECKING_ACCTID,
    TRANSACTIONS_URL,
    accounts_of,
    all_transactions,
    connect,
    imported,
    sign_up,
)
from tests.api.support import assert_problem


async def eleven_transactions(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """Checking (4, USD), credit card (3, EUR) and savings (4, USD)."""
    connection = await connect(client, headers, "ofx-file")
    for name in ("checking_ofx1_sgml.ofx", "creditcard_ofx2.ofx", "savings.qfx"):
        await imported(client, headers, connection, name)


def amounts(items: list[dict[str, Any]]) -> list[str]:
    return [item["amount"] for item in items]


async def test_amounts_are_exact_strings_and_newest_comes_first(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    await eleven_transactions(client, headers)

    response = await client.get(TRANSACTIONS_URL, headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    assert body["next_cursor"] is None
    items = body["items"]
    assert len(items) == 11
    assert all(isinstance(item["amount"], str) for item in items)
    dates = [item["posted_on"] for item in items]
    assert dates == sorted(dates, reverse=True)
    [whole_foods, _] = [i for i in items if i["provider_transaction_id"] == "202611020"]
    assert whole_foods["amount"] == "-45.67"
    assert (whole_foods["payee"], whole_foods["memo"]) == ("WHOLEFDS MKT #10234", "POS PURCHASE")
    assert (whole_foods["currency"], whole_foods["status"]) == ("USD", "posted")
    [air_france] = [i for i in items if i["provider_transaction_id"] == "CC-0002"]
    assert (air_france["amount"], air_france["currency"]) == ("-1234.50", "EUR")
    [app_store, _] = [i for i in items if i["provider_transaction_id"] == "202611150"]
    # SGML character references are decoded; a formula-looking name is kept as text.
    assert app_store["memo"] == "App store & more"
    assert app_store["description"] == '=HYPERLINK("http://x")'
    assert app_store["posted_on"] == "2026-11-15"
    for number in (CHECKING_ACCTID, CARD_ACCTID):
        assert number not in response.text


async def test_filters_narrow_the_results(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    await eleven_transactions(client, headers)
    card = next(a for a in await accounts_of(client, headers) if a["type"] == "credit_card")

    by_account = await all_transactions(client, headers, account=card["id"])
    by_dates = await all_transactions(client, headers, **{"from": "2026-11-04", "to": "2026-11-10"})
    by_amount = await all_transactions(client, headers, min_amount="-50", max_amount="-0.99")
    by_text = await all_transactions(client, headers, q="pos purch")
    by_payee = await all_transactions(client, headers, q="air france")
    wildcard = await all_transactions(client, headers, q="%")
    combined = await all_transactions(
        client, headers, account=card["id"], min_amount="0", q="thank"
    )

    assert amounts(by_account) == ["500.00", "-1234.50", "-12.34"]
    assert {t["account_id"] for t in by_account} == {card["id"]}
    assert sorted(t["posted_on"] for t in by_dates) == [
        "2026-11-04",
        "2026-11-05",
        "2026-11-05",
        "2026-11-10",
        "2026-11-10",
    ]
    assert sorted(amounts(by_amount)) == ["-0.99", "-0.99", "-12.34", "-45.67", "-45.67"]
    assert {t["memo"] for t in by_text} == {"POS PURCHASE"}
    assert len(by_text) == 2
    assert amounts(by_payee) == ["-1234.50"]
    assert wildcard == []  # LIKE wildcards in q are matched literally
    assert amounts(combined) == ["500.00"]


async def test_bad_query_parameters_are_422(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")

    for params in (
        {"limit": "1000"},
        {"limit": "201"},
        {"limit": "0"},
        {"from": "yesterday"},
        {"min_amount": "ten"},
        {"account": "not-a-uuid"},
        {"q": "x" * 101},
    ):
        response = await client.get(TRANSACTIONS_URL, params=params, headers=headers)
        assert_problem(response, status=422, code="validation_error")

    for cursor in ("not-a-cursor", "bm9wZXxub3BlCg", "MjAyNi0xMS0wMnxub3QtYS11dWlk"):
        response = await client.get(TRANSACTIONS_URL, params={"cursor": cursor}, headers=headers)
        body = assert_problem(response, status=422, code="validation_error")
        assert body["errors"] == [
            {
                "location": "query.cursor",
                "message": "the cursor is not valid",
                "type": "validation_error",
                "field": "cursor",
            }
        ]

    capped = await client.get(TRANSACTIONS_URL, params={"limit": "200"}, headers=headers)
    assert capped.status_code == 200, capped.text


async def walk(
    client: httpx.AsyncClient, headers: dict[str, str], limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Every transaction, page by page; and the number of requests it took."""
    seen: list[dict[str, Any]] = []
    params = {"limit": str(limit)}
    requests = 0
    while True:
        response = await client.get(TRANSACTIONS_URL, params=params, headers=headers)
        requests += 1
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        seen.extend(body["items"])
        if body["next_cursor"] is None:
            return seen, requests
        params = {"limit": str(limit), "cursor": body["next_cursor"]}


async def test_cursor_pagination_visits_every_transaction_once(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    await eleven_transactions(client, headers)
    everything = await all_transactions(client, headers)

    for limit in (1, 2, 3, 11):
        pages, requests = await walk(client, headers, limit)
        assert [t["id"] for t in pages] == [t["id"] for t in everything], limit
        assert requests == -(-11 // limit)  # a full last page has no cursor after it


async def test_pagination_is_stable_while_new_transactions_arrive(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")
    first = await client.get(TRANSACTIONS_URL, params={"limit": "2"}, headers=headers)
    first_page = first.json()
    # A statement with same-day and newer rows lands between the two page requests.
    await imported(client, headers, connection, "creditcard_ofx2.ofx")

    rest = await client.get(
        TRANSACTIONS_URL,
        params={"limit": "50", "cursor": first_page["next_cursor"]},
        headers=headers,
    )

    assert rest.status_code == 200, rest.text
    assert amounts(first_page["items"]) == ["-0.99", "-1200.00"]
    # Only rows older than the cursor follow: the rest of the checking account and the
    # card's two older rows; nothing from the first page repeats.
    assert amounts(rest.json()["items"]) == ["2500.00", "-1234.50", "-12.34", "-45.67"]
