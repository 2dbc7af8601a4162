"""Helpers for the financial-data API tests: signed-in users, connections, uploads, counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from dashtam.bootstrap import Container
from dashtam.infrastructure.persistence.base import BaseModel
from dashtam.infrastructure.persistence.models import (
    AccountModel,
    BalanceSnapshotModel,
    TransactionModel,
)
from tests.api.support import PASSWORD, USERS_URL, bearer, tokens_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
CONNECTIONS_URL = "/api/v1/connections"
ACCOUNTS_URL = "/api/v1/accounts"
TRANSACTIONS_URL = "/api/v1/transactions"
NET_WORTH_URL = "/api/v1/users/me/net-worth"

# What the sample files hold (see tests/fixtures/imports).
CHECKING_ACCTID = "000012345678"
SAVINGS_ACCTID = "987654321"
CARD_ACCTID = "4111111111111111"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def sign_up(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Registers ``email`` through the API and returns its bearer headers."""
    registered = await client.post(USERS_URL, json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    tokens = await tokens_for(client, email, PASSWORD)
    return bearer(tokens["access_token"])


async def connect(client: httpx.AsyncClient, headers: dict[str, str], provider: str) -> str:
    """A new connection's id."""
    response = await client.post(
        CONNECTIONS_URL, json={"provider": provider, "label": f"my {provider}"}, headers=headers
    )
    assert response.status_code == 201, response.text
    ident: str = response.json()["id"]
    return ident


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    connection_id: str,
    name: str,
    *,
    data: bytes | None = None,
    preset: str | None = None,
    mapping: dict[str, str] | str | None = None,
    account: str | None = None,
) -> httpx.Response:
    """POSTs a fixture (or ``data`` under that name) as the multipart field ``file``."""
    form: dict[str, str] = {}
    if preset is not None:
        form["preset"] = preset
    if mapping is not None:
        form["mapping"] = mapping if isinstance(mapping, str) else json.dumps(mapping)
    if account is not None:
        form["account"] = account
    body = fixture_bytes(name) if data is None else data
    return await client.post(
        f"{CONNECTIONS_URL}/{connection_id}/imports",
        files={"file": (name, body, "application/octet-stream")},
        data=form,
        headers=headers,
    )


async def imported(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    connection_id: str,
    name: str,
    **options: Any,
) -> dict[str, Any]:
    """A successful import's report."""
    response = await upload(client, headers, connection_id, name, **options)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


async def count(container: Container, model: type[BaseModel]) -> int:
    async with container.database.get_session() as session:
        total = await session.scalar(select(func.count()).select_from(model))
    return int(total or 0)


async def finance_row_counts(container: Container) -> tuple[int, int, int]:
    """(accounts, transactions, balance snapshots) in the whole database."""
    return (
        await count(container, AccountModel),
        await count(container, TransactionModel),
        await count(container, BalanceSnapshotModel),
    )


async def accounts_of(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(ACCOUNTS_URL, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def all_transactions(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    """One page of up to 200 transactions (enough for the sample files)."""
    response = await client.get(
        TRANSACTIONS_URL, params={"limit": "200", **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["next_cursor"] is None, "more than one page: use the cursor"
    items: list[dict[str, Any]] = body["items"]
    return items
