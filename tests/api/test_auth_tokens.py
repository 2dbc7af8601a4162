"""POST /api/v1/tokens: refresh-token rotation and theft detection."""

from __future__ import annotations

from typing import Any

import httpx

from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    AuthSessionModel,
    OutboxEventModel,
    RefreshTokenModel,
)
from tests.api.support import (
    ME_URL,
    SESSIONS_URL,
    TOKENS_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    fetch,
    tokens_for,
)


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(TOKENS_URL, json={"refresh_token": refresh_token})


async def logged_in(client: httpx.AsyncClient, container: FastContainer) -> dict[str, Any]:
    await create_user(container, "ada@example.com")
    return await tokens_for(client, "ada@example.com")


async def test_refresh_rotates_the_refresh_token(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    first = await logged_in(client, container)

    response = await refresh(client, first["refresh_token"])

    assert response.status_code == 200, response.text
    second: dict[str, Any] = response.json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert (second["token_type"], second["expires_in"]) == ("bearer", 900)
    assert second["refresh_token"] != first["refresh_token"]
    assert "no-store" in response.headers["cache-control"]
    assert (await client.get(ME_URL, headers=bearer(second["access_token"]))).status_code == 200
    # The new refresh token works once more; the session is the same one throughout.
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text
    [session] = await fetch(container, AuthSessionModel)
    tokens = await fetch(container, RefreshTokenModel)
    assert [t.session_id for t in tokens] == [session.id] * 3
    assert [t.rotated_at is not None for t in tokens] == [True, True, False]
    refreshed = await fetch(container, AuditLogModel, AuditLogModel.action == "token.refreshed")
    assert [(a.outcome, a.resource_id) for a in refreshed] == [("succeeded", session.id)] * 2


async def test_reusing_a_rotated_refresh_token_ends_the_session(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    first = await logged_in(client, container)
    rotated = await refresh(client, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    current = rotated.json()

    reused = await refresh(client, first["refresh_token"])

    assert_unauthorized(reused, code="refresh_token_reused")
    # The whole family is gone: the thief's and the owner's tokens alike.
    assert_unauthorized(
        await client.get(ME_URL, headers=bearer(current["access_token"])), code="token_revoked"
    )
    assert_unauthorized(
        await client.get(ME_URL, headers=bearer(first["access_token"])), code="token_revoked"
    )
    assert_unauthorized(
        await refresh(client, current["refresh_token"]), code="invalid_refresh_token"
    )
    [session] = await fetch(container, AuthSessionModel)
    assert session.revoked_at is not None
    assert session.revoked_reason == "refresh_token_reuse"
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "token.reuse_detected")
    assert (audit.outcome, audit.resource_id) == ("denied", session.id)
    assert audit.actor_id == session.user_id
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "RefreshTokenReuseDetected"
    )
    assert [e.payload["session_id"] for e in events] == [str(session.id)]


async def test_reuse_does_not_touch_the_users_other_sessions(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    stolen = await logged_in(client, container)
    other = await tokens_for(client, "ada@example.com")
    assert (await refresh(client, stolen["refresh_token"])).status_code == 200

    assert_unauthorized(await refresh(client, stolen["refresh_token"]), code="refresh_token_reused")

    assert (await client.get(ME_URL, headers=bearer(other["access_token"]))).status_code == 200
    assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_an_unknown_refresh_token_is_401_and_audited(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await refresh(client, "made-up-token")

    assert_unauthorized(response, code="invalid_refresh_token")
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "token.refresh_failed")
    assert (audit.outcome, audit.reason) == ("failed", "unknown_token")


async def test_an_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    tokens = await logged_in(client, container)

    response = await refresh(client, tokens["access_token"])

    assert_unauthorized(response, code="invalid_refresh_token")


async def test_after_log_out_the_refresh_token_is_dead(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    tokens = await logged_in(client, container)
    out = await client.delete(f"{SESSIONS_URL}/current", headers=bearer(tokens["access_token"]))
    assert out.status_code == 204, out.text

    response = await refresh(client, tokens["refresh_token"])

    assert_unauthorized(response, code="invalid_refresh_token")
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "token.refresh_failed")
    assert audit.reason == "session_ended"


async def test_an_empty_body_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(TOKENS_URL, json={}), status=422, code="validation_error")
    assert_problem(
        await client.post(TOKENS_URL, json={"refresh_token": ""}),
        status=422,
        code="validation_error",
    )
