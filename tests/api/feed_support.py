"""A sync feed client for API tests: applies pages as docs/feed.md says; the truth to compare."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.finance_support import TRANSACTIONS_URL

SYNC_URL = f"{TRANSACTIONS_URL}/sync"


async def sync_page(
    client: httpx.AsyncClient, headers: dict[str, str], cursor: str | None, limit: int
) -> dict[str, Any]:
    params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    response = await client.get(SYNC_URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class FeedClient:
    """Keeps a mirror of one user's transactions by id, as the API shows them."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self._client = client
        self._headers = headers
        self.rows: dict[str, dict[str, Any]] = {}
        self.cursor: str | None = None

    def apply(self, page: dict[str, Any]) -> None:
        for item in (*page["added"], *page["modified"]):
            self.rows[item["id"]] = item
        for removed in page["removed"]:
            self.rows.pop(removed["id"], None)  # an id never seen is ignored
        self.cursor = page["next_cursor"]

    async def pull(self, limit: int, pages: int | None = None) -> bool:
        """Up to ``pages`` pages (None: until caught up); True when caught up."""
        pulled = 0
        while pages is None or pulled < pages:
            page = await sync_page(self._client, self._headers, self.cursor, limit)
            self.apply(page)
            pulled += 1
            if not page["has_more"]:
                return True
        return False


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every transaction of the user through GET /transactions, page by page."""
    rows: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        response = await client.get(TRANSACTIONS_URL, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.update({item["id"]: item for item in body["items"]})
        cursor = body["next_cursor"]
        if cursor is None:
            return rows
