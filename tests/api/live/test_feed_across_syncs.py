"""A client following the feed mirrors what syncs do: new rows, pending to posted, vanished
pending, a disconnected connection's purge."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.api.finance_support import CONNECTIONS_URL, TRANSACTIONS_URL, sign_up
from tests.api.live.support import connect_bridge, pending, sync, tx
from tests.simplefin_bridge import DAY, SimplefinBridge

FEED_URL = "/api/v1/transactions/sync"


class _Mirror:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.cursor: str | None = None
        self.last: dict[str, list[str]] = {}

    async def follow(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.last = {"added": [], "modified": [], "removed": []}
        while True:
            params: dict[str, Any] = {"limit": 2}
            if self.cursor is not None:
                params["cursor"] = self.cursor
            response = await client.get(FEED_URL, params=params, headers=headers)
            assert response.status_code == 200, response.text
            page = response.json()
            for kind in ("added", "modified"):
                for row in page[kind]:
                    self.rows[row["id"]] = row
                    self.last[kind].append(row["id"])
            for gone in page["removed"]:
                self.rows.pop(gone["id"], None)
                self.last["removed"].append(gone["id"])
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return


async def _truth(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = await client.get(TRANSACTIONS_URL, params={"limit": 200}, headers=headers)
    return {row["id"]: row for row in response.json()["items"]}


async def test_the_feed_mirrors_syncs_exactly(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    connection_id = str((await connect_bridge(live_client, headers, bridge))["id"])
    mirror = _Mirror()
    await sync(live_client, headers, connection_id)
    await mirror.follow(live_client, headers)
    assert len(mirror.last["added"]) == 4
    assert mirror.rows == await _truth(live_client, headers)

    pending_id = next(r["id"] for r in mirror.rows.values() if r["status"] == "pending")
    savings = next(a for a in bridge.accounts if a["id"] == "2930002")
    savings["transactions"] = [t for t in savings["transactions"] if t["id"] != "T-PEND"]
    now = int(time.time())
    savings["transactions"].append(tx("T-POSTED", now, "-19.99", "Online store"))
    savings["transactions"].append(pending("T-HOLD", now - 60, "-5.00", "Hotel hold"))
    await sync(live_client, headers, connection_id)
    await mirror.follow(live_client, headers)
    assert pending_id in mirror.last["modified"]  # posted in place: not added, not removed
    assert mirror.rows[pending_id]["status"] == "posted"
    assert len(mirror.last["added"]) == 1  # the hold
    assert mirror.rows == await _truth(live_client, headers)

    hold_id = mirror.last["added"][0]
    savings["transactions"] = [t for t in savings["transactions"] if t["id"] != "T-HOLD"]
    savings["transactions"].append(tx("T-LATE", now - 2 * DAY, "-1.00", "Late"))
    report = (await sync(live_client, headers, connection_id)).json()
    assert report["transactions_removed"] == 1
    await mirror.follow(live_client, headers)
    assert mirror.last["removed"] == [hold_id]
    assert mirror.rows == await _truth(live_client, headers)

    purged = await live_client.delete(
        f"{CONNECTIONS_URL}/{connection_id}", params={"purge": "true"}, headers=headers
    )
    assert purged.status_code == 204
    await mirror.follow(live_client, headers)
    assert mirror.rows == {} == await _truth(live_client, headers)
