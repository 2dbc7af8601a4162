"""Connecting a SimpleFIN Bridge account: the claim, its failures, and what is stored."""

from __future__ import annotations

import base64

import httpx
from sqlalchemy import func, select

from dashtam.core.result import Success
from dashtam.infrastructure.persistence.models import AuditLogModel, ConnectionModel
from tests.api.finance_support import CONNECTIONS_URL, sign_up
from tests.api.live.support import connect_bridge
from tests.api.support import FastContainer, assert_problem
from tests.simplefin_bridge import SimplefinBridge


async def _connections(container: FastContainer) -> int:
    async with container.database.get_session() as session:
        return int(await session.scalar(select(func.count()).select_from(ConnectionModel)) or 0)


async def test_a_claimed_token_becomes_a_connection_with_sealed_access(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    body = await connect_bridge(live_client, headers, bridge)
    assert body["provider"] == "simplefin"
    assert body["status"] == "active"
    assert body["next_sync_at"] is not None
    assert "setup_token" not in body
    assert "credentials" not in body
    async with live_container.database.get_session() as session:
        sealed = await session.scalar(select(ConnectionModel.credentials))
    assert sealed is not None
    assert "http" not in sealed
    assert "@" not in sealed
    opened = live_container.credential_cipher.open(sealed, context=f"connection:{body['id']}")
    assert isinstance(opened, Success)
    host = bridge.base_url.removeprefix("http://")
    assert opened.value.startswith("http://user")
    assert opened.value.endswith(f"@{host}/simplefin")
    # Bound to its row: the same sealed text does not open as another connection's.
    assert not isinstance(
        live_container.credential_cipher.open(sealed, context="connection:other"), Success
    )


async def test_a_reused_token_is_refused_and_leaves_nothing(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    token = bridge.issue_setup_token()
    first = await live_client.post(
        CONNECTIONS_URL, json={"provider": "simplefin", "setup_token": token}, headers=headers
    )
    assert first.status_code == 201
    again = await live_client.post(
        CONNECTIONS_URL, json={"provider": "simplefin", "setup_token": token}, headers=headers
    )
    problem = assert_problem(again, status=422, code="setup_token_claimed")
    assert problem["errors"][0]["location"] == "body.setup_token"
    assert await _connections(live_container) == 1
    async with live_container.database.get_session() as session:
        actions = (await session.scalars(select(AuditLogModel.action))).all()
    assert "connection.claim_failed" in actions


async def test_bad_tokens_get_clear_problems(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    cases = {
        "not base64 at all!": "invalid_setup_token",
        base64.b64encode(b"just words").decode(): "setup_token_not_a_url",
        base64.b64encode(b"http://bridge.example.com/claim/x").decode(): "setup_token_not_https",
        # Nothing listens on port 9 of loopback: the bridge is unreachable.
        base64.b64encode(b"http://127.0.0.1:9/simplefin/claim/x").decode(): "bridge_unreachable",
    }
    for token, code in cases.items():
        response = await live_client.post(
            CONNECTIONS_URL, json={"provider": "simplefin", "setup_token": token}, headers=headers
        )
        assert_problem(response, status=422, code=code)
        assert token not in response.text
    missing = await live_client.post(
        CONNECTIONS_URL, json={"provider": "simplefin"}, headers=headers
    )
    assert_problem(missing, status=422, code="setup_token_required")
    file_with_token = await live_client.post(
        CONNECTIONS_URL,
        json={"provider": "ofx-file", "setup_token": bridge.issue_setup_token()},
        headers=headers,
    )
    assert_problem(file_with_token, status=422, code="not_a_live_provider")
    assert await _connections(live_container) == 0


async def test_a_slow_claim_times_out_with_a_problem(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    bridge.behaviour.delay_seconds = 5
    response = await live_client.post(
        CONNECTIONS_URL,
        json={"provider": "simplefin", "setup_token": bridge.issue_setup_token()},
        headers=headers,
    )
    assert_problem(response, status=422, code="bridge_timeout")
    assert await _connections(live_container) == 0


async def test_disconnecting_deletes_the_access(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    body = await connect_bridge(live_client, headers, bridge)
    gone = await live_client.delete(f"{CONNECTIONS_URL}/{body['id']}", headers=headers)
    assert gone.status_code == 204
    async with live_container.database.get_session() as session:
        row = (await session.scalars(select(ConnectionModel))).one()
    assert row.credentials is None
    assert row.status == "disconnected"
    assert row.next_sync_at is None
    listed = (await live_client.get(CONNECTIONS_URL, headers=headers)).json()["items"]
    assert listed[0]["next_sync_at"] is None
