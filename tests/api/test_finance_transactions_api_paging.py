"""``GET /transactions`` paging at the boundary: a cursor only when another page exists."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.api.finance_support import TRANSACTIONS_URL, connect, imported, sign_up
from tests.api.support import FastContainer, fetch
from tests.unit.importers.support import bank_ofx, stmttrn

FOUR = bank_ofx(
    *(
        stmttrn(fitid=f"T{day}", posted=f"202611{day:02d}", amount=f"-{day}.00")
        for day in (1, 2, 3, 4)
    )
)


async def four_transactions(client: httpx.AsyncClient) -> dict[str, str]:
    headers = await sign_up(client, "ada@example.com")
    await imported(client, headers, await connect(client, headers, "ofx-file"), "f.ofx", data=FOUR)
    return headers


async def page(
    client: httpx.AsyncClient, headers: dict[str, str], limit: int, cursor: str | None = None
) -> dict[str, Any]:
    params = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
    response = await client.get(TRANSACTIONS_URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [item["provider_transaction_id"] for item in body["items"]]


async def test_four_rows_in_pages_of_two_end_on_the_second_page(
    client: httpx.AsyncClient,
) -> None:
    headers = await four_transactions(client)

    first = await page(client, headers, 2)
    second = await page(client, headers, 2, first["next_cursor"])

    assert (ids(first), ids(second)) == (["T4", "T3"], ["T2", "T1"])
    assert first["next_cursor"] is not None
    assert second["next_cursor"] is None  # exactly full, and the last: no empty third page


@pytest.mark.parametrize(
    ("limit", "pages"),
    [
        (4, [["T4", "T3", "T2", "T1"]]),
        (5, [["T4", "T3", "T2", "T1"]]),
        (3, [["T4", "T3", "T2"], ["T1"]]),
        (1, [["T4"], ["T3"], ["T2"], ["T1"]]),
    ],
)
async def test_a_cursor_is_given_only_when_more_rows_follow(
    client: httpx.AsyncClient, limit: int, pages: list[list[str]]
) -> None:
    headers = await four_transactions(client)

    seen: list[list[str]] = []
    cursor: str | None = None
    while True:
        body = await page(client, headers, limit, cursor)
        seen.append(ids(body))
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == pages


async def test_filters_apply_to_the_extra_row_too(client: httpx.AsyncClient) -> None:
    headers = await four_transactions(client)

    # Two rows match; the row fetched past the page must match the filter as well.
    response = await client.get(
        TRANSACTIONS_URL, params={"limit": "2", "min_amount": "-2.5"}, headers=headers
    )

    body = response.json()
    assert (ids(body), body["next_cursor"]) == (["T2", "T1"], None)


async def test_the_audited_count_is_the_rows_returned_not_the_rows_fetched(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await four_transactions(client)

    await page(client, headers, 3)

    (await container.read_audit_log.flush()).unwrap()
    reads = await fetch(container, AuditLogModel, AuditLogModel.action == "financial_data.read")
    assert [r.details["count"] for r in reads if r.details.get("view") == "transactions"] == [3]
