"""GET /api/v1/transactions/sync through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64

import httpx
from fastapi import FastAPI

from tests.api.feed_support import SYNC_URL, FeedClient, listed, sync_page
from tests.api.finance_support import CONNECTIONS_URL, connect, imported, sign_up
from tests.api.support import assert_problem, assert_unauthorized
from tests.api.test_access import api_routes
from tests.api.test_finance_transfers import CARD_MAPPING


async def test_from_scratch_then_changes_mirror_the_transactions(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    cards = await connect(client, headers, "csv-file")
    await imported(client, headers, cards, "card_pending.csv", mapping=CARD_MAPPING)
    feed = FeedClient(client, headers)
    first = await sync_page(client, headers, None, 2)
    assert (len(first["added"]), first["modified"], first["removed"]) == (2, [], [])
    assert first["has_more"] is True
    feed.apply(first)
    assert await feed.pull(2)
    assert feed.rows == await listed(client, headers)

    # The two pending rows post (same ids, new texts and amount), one row is new.
    await imported(client, headers, cards, "card_posted.csv", mapping=CARD_MAPPING)
    page = await sync_page(client, headers, feed.cursor, 100)
    assert {t["provider_transaction_id"] for t in page["modified"]} == {"B-1201", "B-1202"}
    assert [t["provider_transaction_id"] for t in page["added"]] == ["B-1203"]
    assert (page["removed"], page["has_more"]) == ([], False)
    feed.apply(page)
    assert feed.rows == await listed(client, headers)

    banks = await connect(client, headers, "ofx-file")
    await imported(client, headers, banks, "own_transfer.ofx")
    purged = await client.delete(
        f"{CONNECTIONS_URL}/{cards}", params={"purge": "true"}, headers=headers
    )
    assert purged.status_code == 204, purged.text
    page = await sync_page(client, headers, feed.cursor, 100)
    assert len(page["removed"]) == 4
    feed.apply(page)
    assert feed.rows == await listed(client, headers)
    idle = await sync_page(client, headers, feed.cursor, 100)
    assert (idle["added"], idle["modified"], idle["removed"]) == ([], [], [])
    assert idle["next_cursor"] == feed.cursor


async def test_only_the_callers_transactions(client: httpx.AsyncClient) -> None:
    ada = await sign_up(client, "ada@example.com")
    bob = await sign_up(client, "bob@example.com")
    await imported(client, ada, await connect(client, ada, "ofx-file"), "own_transfer.ofx")
    page = await sync_page(client, bob, None, 100)
    assert (page["added"], page["modified"], page["removed"], page["has_more"]) == (
        [],
        [],
        [],
        False,
    )
    later = await sync_page(client, bob, page["next_cursor"], 100)
    assert later["added"] == []


async def test_a_bad_edited_or_foreign_cursor_is_refused_alike(client: httpx.AsyncClient) -> None:
    ada = await sign_up(client, "ada@example.com")
    bob = await sign_up(client, "bob@example.com")
    await imported(client, ada, await connect(client, ada, "ofx-file"), "own_transfer.ofx")
    adas = (await sync_page(client, ada, None, 1))["next_cursor"]
    raw = base64.urlsafe_b64decode(adas + "=" * (-len(adas) % 4))
    fields = raw.split(b"|")
    fields[1] = str(int(fields[1]) - 1).encode()  # an earlier position, signature kept
    edited = base64.urlsafe_b64encode(b"|".join(fields)).decode().rstrip("=")
    assert edited != adas
    details = set()
    for headers, cursor in ((ada, "not-a-cursor"), (ada, edited), (bob, adas), (ada, "")):
        response = await client.get(SYNC_URL, params={"cursor": cursor}, headers=headers)
        if cursor == "":  # an empty cursor is no cursor: from the beginning
            assert response.status_code == 200, response.text
            continue
        body = assert_problem(response, status=422, code="invalid_cursor")
        details.add(body["detail"])
    assert len(details) == 1  # a foreign cursor tells nothing an edited one does not


async def test_limit_is_bounded(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    for limit in ("0", "501", "many"):
        response = await client.get(SYNC_URL, params={"limit": limit}, headers=headers)
        assert response.status_code == 422, response.text
    assert (await client.get(SYNC_URL, params={"limit": "500"}, headers=headers)).is_success


async def test_sync_is_its_own_route_not_a_transaction_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    anonymous = await client.get(SYNC_URL)
    assert_unauthorized(anonymous, code="missing_token")
    paths = [path for method, path, _ in api_routes(app) if method == "GET"]
    sync_at = paths.index("/api/v1/transactions/sync")
    by_id = [i for i, p in enumerate(paths) if p.startswith("/api/v1/transactions/{")]
    assert all(sync_at < i for i in by_id)  # any later GET /transactions/{id} comes after it
