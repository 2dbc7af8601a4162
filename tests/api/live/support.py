"""Helpers for the live-sync API tests."""

from __future__ import annotations

from typing import Any

import httpx

from dashtam.core.config import Settings
from tests.api.finance_support import CONNECTIONS_URL
from tests.simplefin_bridge import SimplefinBridge


def live_settings(database_url: str, **extra: Any) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        DASHTAM_ENV="test",
        LOG_LEVEL="WARNING",
        DB_POOL_SIZE=5,
        DASHTAM_SYNC_ALLOW_LOOPBACK_HTTP=True,
        DASHTAM_SYNC_TIMEOUT=2,
        **extra,
    )


async def connect_bridge(
    client: httpx.AsyncClient, headers: dict[str, str], bridge: SimplefinBridge
) -> dict[str, Any]:
    response = await client.post(
        CONNECTIONS_URL,
        json={
            "provider": "simplefin",
            "label": "My bridge",
            "setup_token": bridge.issue_setup_token(),
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def sync(
    client: httpx.AsyncClient, headers: dict[str, str], connection_id: str
) -> httpx.Response:
    return await client.post(f"{CONNECTIONS_URL}/{connection_id}/sync", headers=headers)


def tx(ident: str, when: int, amount: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "posted": when, "amount": amount, "description": description, **extra}


def pending(ident: str, when: int, amount: str, description: str) -> dict[str, Any]:
    return {
        "id": ident,
        "posted": 0,
        "amount": amount,
        "description": description,
        "transacted_at": when,
        "pending": True,
    }
