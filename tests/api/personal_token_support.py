"""Helpers for the personal access token API tests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import update

from dashtam.core.clock import utcnow
from dashtam.infrastructure.persistence.models import PersonalTokenModel
from tests.api.support import PERSONAL_TOKENS_URL, FastContainer


async def create_token(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str = "nightly export",
    scopes: tuple[str, ...] = ("read",),
    **extra: object,
) -> dict[str, Any]:
    """A new token's creation answer (its ``token`` is the text to send)."""
    body = {"name": name, "scopes": list(scopes), **extra}
    response = await client.post(PERSONAL_TOKENS_URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def listed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(PERSONAL_TOKENS_URL, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def expire_now(container: FastContainer, token_id: str) -> None:
    """Move a token's expiry to the past, as time would."""
    async with container.database.transaction() as session:
        await session.execute(
            update(PersonalTokenModel)
            .where(PersonalTokenModel.id == UUID(token_id))
            .values(expires_at=utcnow())
        )
