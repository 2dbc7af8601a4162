"""Syncing a SimpleFIN connection through the API, against a bridge on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    ConnectionModel,
    OutboxEventModel,
)
from tests.api.finance_support import ACCOUNTS_URL, TRANSACTIONS_URL, sign_up
from tests.api.live.support import connect_bridge, pending, sync, tx
from tests.api.support import FastContainer, assert_problem
from tests.simplefin_bridge import DAY, SimplefinBridge


async def _connected(
    client: httpx.AsyncClient, bridge: SimplefinBridge
) -> tuple[dict[str, str], str]:
    headers = await sign_up(client, "ana@example.com")
    connection = await connect_bridge(client, headers, bridge)
    return headers, str(connection["id"])


async def _transactions(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(TRANSACTIONS_URL, params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _events(container: FastContainer) -> list[str]:
    async with container.database.get_session() as session:
        return list((await session.scalars(select(OutboxEventModel.event_type))).all())


async def _connection_row(container: FastContainer) -> ConnectionModel:
    async with container.database.get_session() as session:
        return (await session.scalars(select(ConnectionModel))).one()


def _savings(bridge: SimplefinBridge) -> dict[str, Any]:
    return next(a for a in bridge.accounts if a["id"] == "2930002")


async def test_the_first_sync_brings_accounts_balances_transactions_and_holdings(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    before = time.time()
    response = await sync(live_client, headers, connection_id)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "active"
    assert report["accounts"] == 2  # the custom-currency account is skipped, and said so
    assert report["skipped"] == {"accounts in a custom currency": 1}
    assert report["transactions_new"] == 4
    assert report["holdings_added"] == 1
    assert report["requests"] == 1
    fetched = bridge.requests[-1]
    assert fetched.query["pending"] == "1"
    # First sync: back 90 days (the default), up to now.
    assert abs(int(fetched.query["start-date"]) - (before - 90 * DAY)) < 60
    accounts = (await live_client.get(ACCOUNTS_URL, headers=headers)).json()["items"]
    savings = next(a for a in accounts if a["name"] == "Savings")
    assert savings["balance"] == "100.23"
    assert savings["available_balance"] == "75.23"
    statuses = sorted(t["status"] for t in await _transactions(live_client, headers))
    assert statuses == ["pending", "posted", "posted", "posted"]
    row = await _connection_row(live_container)
    assert row.last_sync_at is not None
    assert row.sync_failures == 0
    assert row.next_sync_at is not None
    assert row.next_sync_at - row.last_sync_at == timedelta(hours=4)
    assert "SyncCompleted" in await _events(live_container)
    async with live_container.database.get_session() as session:
        actions = (await session.scalars(select(AuditLogModel.action))).all()
    assert "sync.succeeded" in actions


async def test_a_later_sync_overlaps_and_changes_nothing_that_did_not_change(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    assert (await sync(live_client, headers, connection_id)).status_code == 200
    first = await _connection_row(live_container)
    again = await sync(live_client, headers, connection_id)
    assert again.status_code == 200, again.text
    report = again.json()
    assert report["transactions_new"] == 0
    assert report["transactions_updated"] == 0
    # Only the last week (and a day) is asked again: the coffee and the pending purchase.
    assert report["transactions_unchanged"] == 2
    assert report["transactions_removed"] == 0
    assert first.last_sync_at is not None
    overlap_start = first.last_sync_at - timedelta(days=7)
    assert int(bridge.requests[-1].query["start-date"]) == int(overlap_start.timestamp())
    assert len(await _transactions(live_client, headers)) == 4


async def test_a_late_posting_inside_the_overlap_is_caught(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    await sync(live_client, headers, connection_id)
    now = int(time.time())
    # Posted three days ago, but the bridge learned of it only now.
    _savings(bridge)["transactions"].append(tx("T-LATE", now - 3 * DAY, "-12.00", "Late fee"))
    report = (await sync(live_client, headers, connection_id)).json()
    assert report["transactions_new"] == 1
    descriptions = {t["description"] for t in await _transactions(live_client, headers)}
    assert "Late fee" in descriptions


async def test_a_pending_transaction_that_posts_under_another_id_stays_one(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    await sync(live_client, headers, connection_id)
    before = {t["description"]: t for t in await _transactions(live_client, headers)}
    pending_row = before["Online store"]
    assert pending_row["status"] == "pending"
    savings = _savings(bridge)
    savings["transactions"] = [t for t in savings["transactions"] if t["id"] != "T-PEND"]
    # Posted a day later, under a new id, with the final amount a little different.
    savings["transactions"].append(tx("T-POSTED", int(time.time()), "-20.49", "Online store"))
    report = (await sync(live_client, headers, connection_id)).json()
    assert report["transactions_new"] == 0
    assert report["transactions_removed"] == 0
    after = await _transactions(live_client, headers)
    stores = [t for t in after if t["description"] == "Online store"]
    assert len(stores) == 1
    assert stores[0]["id"] == pending_row["id"]
    assert stores[0]["status"] == "posted"
    assert stores[0]["amount"] == "-20.49"


async def test_a_pending_transaction_that_vanished_is_removed(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    await sync(live_client, headers, connection_id)
    savings = _savings(bridge)
    savings["transactions"] = [t for t in savings["transactions"] if t["id"] != "T-PEND"]
    savings["transactions"].append(pending("T-HOLD", int(time.time()) - 600, "-1.00", "Hold"))
    report = (await sync(live_client, headers, connection_id)).json()
    assert report["transactions_removed"] == 1
    assert report["transactions_new"] == 1
    descriptions = {t["description"] for t in await _transactions(live_client, headers)}
    assert "Online store" not in descriptions
    assert "Hold" in descriptions


async def test_bridge_messages_put_the_connection_in_need_of_attention(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    bridge.behaviour.errlist = [
        {"code": "con.auth", "msg": "Please reauthenticate with My Bank", "conn_id": "CON-1"}
    ]
    response = await sync(live_client, headers, connection_id)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "needs_attention"
    assert response.json()["messages"] == ["Please reauthenticate with My Bank"]
    listed = (await live_client.get("/api/v1/connections", headers=headers)).json()["items"]
    assert listed[0]["status"] == "needs_attention"
    assert listed[0]["attention_message"] == "Please reauthenticate with My Bank"
    assert "ConnectionNeedsAttention" in await _events(live_container)
    bridge.behaviour.errlist = []
    healed = await sync(live_client, headers, connection_id)
    assert healed.json()["status"] == "active"
    row = await _connection_row(live_container)
    assert row.attention_message is None


async def test_a_revoked_access_fails_the_sync_and_asks_the_user(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    for username in list(bridge._credentials):
        bridge.revoke(username)
    response = await sync(live_client, headers, connection_id)
    problem = assert_problem(response, status=502, code="bridge_access_revoked")
    assert "new setup token" in problem["detail"]
    row = await _connection_row(live_container)
    assert row.status == "needs_attention"
    assert row.sync_failures == 1
    assert row.last_sync_at is None
    events = await _events(live_container)
    assert "SyncFailed" in events
    assert "ConnectionNeedsAttention" in events
    assert await _transactions(live_client, headers) == []
    async with live_container.database.get_session() as session:
        actions = (await session.scalars(select(AuditLogModel.action))).all()
    assert "sync.failed" in actions


async def test_a_slow_bridge_times_out_and_the_next_sync_backs_off(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    bridge.behaviour.delay_seconds = 5  # the test settings wait 2 seconds
    response = await sync(live_client, headers, connection_id)
    assert_problem(response, status=502, code="bridge_timeout")
    row = await _connection_row(live_container)
    assert row.status == "active"  # nothing for the user to do: Dashtam retries
    assert row.sync_failures == 1
    assert row.next_sync_at is not None
    assert row.last_sync_attempt_at is not None
    assert row.next_sync_at - row.last_sync_attempt_at == timedelta(minutes=5)
    assert await _transactions(live_client, headers) == []


async def test_broken_answers_are_bad_responses_not_crashes(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    bridge.behaviour.malformed = True
    assert_problem(
        await sync(live_client, headers, connection_id), status=502, code="bridge_bad_response"
    )
    bridge.behaviour.malformed = False
    bridge.behaviour.status = 500
    assert_problem(
        await sync(live_client, headers, connection_id), status=502, code="bridge_unavailable"
    )


async def test_the_daily_request_budget_is_kept(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    for _ in range(24):
        assert (await sync(live_client, headers, connection_id)).status_code == 200
    seen = bridge.count("/accounts")
    refused = await sync(live_client, headers, connection_id)
    problem = assert_problem(refused, status=429, code="sync_limit_reached")
    assert int(refused.headers["retry-after"]) > 0
    assert "24 requests" in problem["detail"]
    assert bridge.count("/accounts") == seen  # refused before asking the bridge


async def test_only_live_connections_of_the_caller_sync(
    live_client: httpx.AsyncClient, bridge: SimplefinBridge
) -> None:
    headers, connection_id = await _connected(live_client, bridge)
    other = await sign_up(live_client, "bob@example.com")
    assert_problem(await sync(live_client, other, connection_id), status=404, code="not_found")
    files = await live_client.post(
        "/api/v1/connections", json={"provider": "ofx-file"}, headers=headers
    )
    file_id = files.json()["id"]
    assert_problem(
        await sync(live_client, headers, file_id), status=409, code="not_a_live_connection"
    )
    upload = await live_client.post(
        f"/api/v1/connections/{connection_id}/imports",
        files={"file": ("a.csv", b"Date,Amount,Description\n2024-01-02,1.00,x\n")},
        headers=headers,
    )
    assert_problem(upload, status=409, code="live_connection_takes_no_files")
    await live_client.delete(f"/api/v1/connections/{connection_id}", headers=headers)
    assert_problem(
        await sync(live_client, headers, connection_id), status=409, code="connection_disconnected"
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
