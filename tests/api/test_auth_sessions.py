"""GET /sessions, DELETE /sessions/{id} and DELETE /sessions/current (log out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import jwt

from dashtam.core.ids import new_id
from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    AuthSessionModel,
    OutboxEventModel,
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
    log_in,
    tokens_for,
)

PHONE = "dashtam-phone/2.0"
LAPTOP = "dashtam-laptop/3.1"


def session_id(tokens: dict[str, Any]) -> UUID:
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    return UUID(claims["sid"])


async def log_in_as(client: httpx.AsyncClient, email: str, agent: str) -> dict[str, Any]:
    response = await client.post(
        SESSIONS_URL,
        json={"email": email, "password": "a long passphrase"},
        headers={"user-agent": agent},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_list_shows_my_active_sessions_and_which_is_current(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    await create_user(container, "grace@example.com")
    phone = await log_in_as(client, "ada@example.com", PHONE)
    laptop = await log_in_as(client, "ada@example.com", LAPTOP)
    await tokens_for(client, "grace@example.com")  # someone else's session is never listed

    response = await client.get(SESSIONS_URL, headers=bearer(laptop["access_token"]))

    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert {UUID(i["id"]) for i in items} == {session_id(phone), session_id(laptop)}
    by_agent = {i["user_agent"]: i for i in items}
    assert by_agent[LAPTOP]["current"] is True
    assert by_agent[PHONE]["current"] is False
    for item in items:
        assert set(item) == {
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "ip_address",
            "user_agent",
            "remember_me",
            "second_factor",
            "current",
        }
        assert item["ip_address"] == "127.0.0.1"
        assert datetime.fromisoformat(item["created_at"]).utcoffset() is not None
        assert datetime.fromisoformat(item["expires_at"]) > datetime.fromisoformat(
            item["created_at"]
        )
    assert "refresh" not in response.text
    assert phone["access_token"] not in response.text


async def test_revoking_one_session_ends_only_that_one(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    phone = await log_in_as(client, "ada@example.com", PHONE)
    laptop = await log_in_as(client, "ada@example.com", LAPTOP)

    response = await client.delete(
        f"{SESSIONS_URL}/{session_id(phone)}", headers=bearer(laptop["access_token"])
    )

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_unauthorized(
        await client.get(ME_URL, headers=bearer(phone["access_token"])), code="token_revoked"
    )
    dead_refresh = await client.post(TOKENS_URL, json={"refresh_token": phone["refresh_token"]})
    assert_unauthorized(dead_refresh, code="invalid_refresh_token")
    remaining = await client.get(SESSIONS_URL, headers=bearer(laptop["access_token"]))
    assert [UUID(i["id"]) for i in remaining.json()["items"]] == [session_id(laptop)]
    [revoked] = await fetch(container, AuthSessionModel, AuthSessionModel.revoked_at.is_not(None))
    assert (revoked.id, revoked.revoked_reason) == (session_id(phone), "revoked_by_user")
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "session.revoked")
    assert (audit.outcome, audit.resource_id) == ("succeeded", session_id(phone))
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "SessionRevoked"
    )
    assert len(events) == 1


async def test_another_users_session_is_404_and_keeps_working(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    await create_user(container, "grace@example.com")
    ada = await tokens_for(client, "ada@example.com")
    grace = await tokens_for(client, "grace@example.com")

    response = await client.delete(
        f"{SESSIONS_URL}/{session_id(grace)}", headers=bearer(ada["access_token"])
    )

    assert_problem(response, status=404, code="not_found")
    assert (await client.get(ME_URL, headers=bearer(grace["access_token"]))).status_code == 200
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "session.revoked")
    assert (audit.outcome, audit.reason) == ("failed", "not_found")


async def test_an_unknown_or_malformed_session_id(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    ada = await tokens_for(client, "ada@example.com")

    unknown = await client.delete(f"{SESSIONS_URL}/{new_id()}", headers=bearer(ada["access_token"]))
    malformed = await client.delete(f"{SESSIONS_URL}/nope", headers=bearer(ada["access_token"]))

    assert_problem(unknown, status=404, code="not_found")
    assert_problem(malformed, status=422, code="validation_error")


async def test_log_out_ends_the_current_session_only(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    phone = await log_in_as(client, "ada@example.com", PHONE)
    laptop = await log_in_as(client, "ada@example.com", LAPTOP)

    response = await client.delete(
        f"{SESSIONS_URL}/current", headers=bearer(laptop["access_token"])
    )

    assert response.status_code == 204, response.text
    assert_unauthorized(
        await client.get(ME_URL, headers=bearer(laptop["access_token"])), code="token_revoked"
    )
    again = await client.delete(f"{SESSIONS_URL}/current", headers=bearer(laptop["access_token"]))
    assert_unauthorized(again, code="token_revoked")
    still = await client.get(SESSIONS_URL, headers=bearer(phone["access_token"]))
    assert [UUID(i["id"]) for i in still.json()["items"]] == [session_id(phone)]
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "user.logged_out")
    assert (audit.outcome, audit.resource_id) == ("succeeded", session_id(laptop))
    [ended] = await fetch(container, AuthSessionModel, AuthSessionModel.revoked_at.is_not(None))
    assert ended.revoked_reason == "logout"


async def test_log_in_again_after_log_out(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")
    await client.delete(f"{SESSIONS_URL}/current", headers=bearer(tokens["access_token"]))

    assert (await log_in(client, "ada@example.com")).status_code == 201
