"""Session lifetimes (idle timeout, absolute lifetime, remember me) and logging out elsewhere."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import update

from dashtam.core.clock import utcnow
from dashtam.infrastructure.persistence.models import AuditLogModel, AuthSessionModel
from tests.api.support import (
    PASSWORD,
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

SLACK = timedelta(seconds=30)


def close_to(moment: datetime, expected: datetime) -> bool:
    return abs(moment - expected) < SLACK


async def test_a_session_lasts_an_hour_idle_and_remember_me_a_week(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    await tokens_for(client, "ada@example.com")
    remembered = await client.post(
        SESSIONS_URL,
        json={"email": "ada@example.com", "password": PASSWORD, "remember_me": True},
    )
    assert remembered.status_code == 201, remembered.text
    plain, long_lived = await fetch(container, AuthSessionModel)
    now = utcnow()
    assert (plain.remember_me, long_lived.remember_me) == (False, True)
    assert close_to(plain.expires_at, now + timedelta(hours=1))
    assert close_to(long_lived.expires_at, now + timedelta(days=7))
    listed = await client.get(SESSIONS_URL, headers=bearer(remembered.json()["access_token"]))
    assert {item["remember_me"] for item in listed.json()["items"]} == {True, False}


async def test_refreshing_slides_the_idle_timeout_but_never_past_the_lifetime(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")
    logged_in_at = utcnow() - timedelta(hours=23, minutes=30)
    async with container.database.get_session() as session:
        await session.execute(update(AuthSessionModel).values(created_at=logged_in_at))
        await session.commit()
    refreshed = await client.post(TOKENS_URL, json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    [stored] = await fetch(container, AuthSessionModel)
    # An hour idle would reach past 24 hours after the log-in: the lifetime wins.
    assert close_to(stored.expires_at, logged_in_at + timedelta(hours=24))


async def test_an_idle_session_cannot_be_refreshed(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")
    async with container.database.get_session() as session:
        await session.execute(
            update(AuthSessionModel).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    refused = await client.post(TOKENS_URL, json={"refresh_token": tokens["refresh_token"]})
    assert_unauthorized(refused, code="invalid_refresh_token")
    ended = await client.get(SESSIONS_URL, headers=bearer(tokens["access_token"]))
    assert_unauthorized(ended, code="token_revoked")


async def test_log_out_everywhere_else_keeps_only_this_session(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    await create_user(container, "grace@example.com")
    phone = await tokens_for(client, "ada@example.com")
    tablet = await tokens_for(client, "ada@example.com")
    laptop = await tokens_for(client, "ada@example.com")
    grace = await tokens_for(client, "grace@example.com")

    response = await client.delete(f"{SESSIONS_URL}/others", headers=bearer(laptop["access_token"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"revoked": 2}
    for ended in (phone, tablet):
        gone = await client.get(SESSIONS_URL, headers=bearer(ended["access_token"]))
        assert_unauthorized(gone, code="token_revoked")
    mine = await client.get(SESSIONS_URL, headers=bearer(laptop["access_token"]))
    assert [item["current"] for item in mine.json()["items"]] == [True]
    assert (
        await client.get(SESSIONS_URL, headers=bearer(grace["access_token"]))
    ).status_code == 200
    [record] = await fetch(
        container, AuditLogModel, AuditLogModel.action == "session.others_revoked"
    )
    assert record.details["sessions_revoked"] == 2
    again = await client.delete(f"{SESSIONS_URL}/others", headers=bearer(laptop["access_token"]))
    assert again.json() == {"revoked": 0}


async def test_log_out_everywhere_else_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{SESSIONS_URL}/others")
    assert_problem(response, status=401, code="missing_token")
