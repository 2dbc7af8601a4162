"""GET /users/me, PATCH /users/me/password and DELETE /users/me (close the account)."""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Any

import httpx

from dashtam.core.config import Settings
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    AuthSessionModel,
    OutboxEventModel,
    UserModel,
)
from dashtam.infrastructure.security.password_hasher import Argon2PasswordHasher
from tests.api.support import (
    ME_URL,
    PASSWORD,
    SESSIONS_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    fetch,
    log_in,
    running,
    tokens_for,
)

NEW_PASSWORD = "an even longer passphrase"


async def change_password(
    client: httpx.AsyncClient, token: str, current: str, new: str
) -> httpx.Response:
    body = {"current_password": current, "new_password": new}
    return await client.patch(f"{ME_URL}/password", json=body, headers=bearer(token))


async def test_me_is_the_account_of_the_token(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")
    await create_user(container, "grace@example.com")
    tokens = await tokens_for(client, "ada@example.com")

    response = await client.get(ME_URL, headers=bearer(tokens["access_token"]))

    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"id", "email", "role", "is_active", "created_at"}
    assert (body["id"], body["email"], body["role"]) == (str(user_id), "ada@example.com", "user")


async def test_changing_the_password_ends_my_other_sessions(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")
    current = await tokens_for(client, "ada@example.com")
    other = await tokens_for(client, "ada@example.com")

    response = await change_password(client, current["access_token"], PASSWORD, NEW_PASSWORD)

    assert response.status_code == 204, response.text
    assert (await client.get(ME_URL, headers=bearer(current["access_token"]))).status_code == 200
    assert_unauthorized(
        await client.get(ME_URL, headers=bearer(other["access_token"])), code="token_revoked"
    )
    assert_unauthorized(
        await log_in(client, "ada@example.com", PASSWORD), code="invalid_credentials"
    )
    assert (await log_in(client, "ada@example.com", NEW_PASSWORD)).status_code == 201
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "user.password_changed")
    assert (audit.outcome, audit.resource_id) == ("succeeded", user_id)
    assert audit.details == {"sessions_revoked": 1}
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "UserPasswordChanged"
    )
    assert [e.payload["user_id"] for e in events] == [str(user_id)]
    revoked = await fetch(container, AuthSessionModel, AuthSessionModel.revoked_at.is_not(None))
    assert [s.revoked_reason for s in revoked] == ["password_changed"]


async def test_a_wrong_current_password_is_422_and_changes_nothing(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")

    response = await change_password(
        client, tokens["access_token"], "not the right passphrase", NEW_PASSWORD
    )

    body = assert_problem(response, status=422, code="invalid_current_password")
    assert [(e["location"], e["pointer"], e["field"]) for e in body["errors"]] == [
        ("body.current_password", "/current_password", "current_password")
    ]
    assert (await log_in(client, "ada@example.com", PASSWORD)).status_code == 201
    [audit] = await fetch(
        container, AuditLogModel, AuditLogModel.action == "user.password_change_failed"
    )
    assert (audit.outcome, audit.reason) == ("failed", "wrong_password")


async def test_a_common_new_password_is_422(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")

    common = await change_password(client, tokens["access_token"], PASSWORD, "qwerty123456789")
    short = await change_password(client, tokens["access_token"], PASSWORD, "short")

    body = assert_problem(common, status=422, code="password_too_common")
    assert [(e["location"], e["pointer"], e["field"]) for e in body["errors"]] == [
        ("body.new_password", "/new_password", "new_password")
    ]
    assert "qwerty123456789" not in common.text
    assert_problem(short, status=422, code="password_too_short")
    assert (await log_in(client, "ada@example.com", PASSWORD)).status_code == 201


class SlowVerifyHasher:
    """The cheap argon2id hasher, with verification held long enough for requests to overlap."""

    def __init__(self) -> None:
        self._inner = Argon2PasswordHasher(memory_cost_kib=8, time_cost=1)

    async def hash(self, password: str) -> str:
        return await self._inner.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        await asyncio.sleep(0.05)
        return await self._inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)


class SlowVerifyContainer(FastContainer):
    @cached_property
    def password_hasher(self) -> PasswordHasher:
        return SlowVerifyHasher()


async def test_two_concurrent_changes_one_wins_the_other_is_409(settings: Settings) -> None:
    container = SlowVerifyContainer(settings)
    async with running(container) as (_, client):
        user_id = await create_user(container, "ada@example.com")
        token = (await tokens_for(client, "ada@example.com"))["access_token"]
        candidates = ["first new passphrase", "second new passphrase"]

        responses = await asyncio.gather(
            *(change_password(client, token, PASSWORD, new) for new in candidates)
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [204, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert_problem(loser, status=409, code="stale_version")
        winner = candidates[[r.status_code for r in responses].index(204)]
        other = next(c for c in candidates if c != winner)
        assert (await log_in(client, "ada@example.com", winner)).status_code == 201
        assert_unauthorized(
            await log_in(client, "ada@example.com", other), code="invalid_credentials"
        )
        [user] = await fetch(container, UserModel, UserModel.id == user_id)
        assert user.version == 2  # exactly one update landed
        audits = await fetch(
            container, AuditLogModel, AuditLogModel.action.like("user.password_change%")
        )
        assert sorted((a.action, a.outcome) for a in audits) == [
            ("user.password_change_failed", "failed"),
            ("user.password_changed", "succeeded"),
        ]


async def test_closing_my_account_removes_it_and_keeps_the_audit(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")
    other = await tokens_for(client, "ada@example.com")

    response = await client.request(
        "DELETE", ME_URL, json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
    )

    assert response.status_code == 204, response.text
    assert_unauthorized(await log_in(client, "ada@example.com"), code="invalid_credentials")
    for token in (tokens["access_token"], other["access_token"]):
        assert_unauthorized(await client.get(ME_URL, headers=bearer(token)), code="token_revoked")
    [user] = await fetch(container, UserModel, UserModel.id == user_id)
    assert "ada" not in user.email
    assert "example.com" not in user.email
    assert not user.password_hash.startswith("$argon2")
    assert (user.is_active, user.closed_at is not None) == (False, True)
    audits = await fetch(container, AuditLogModel, AuditLogModel.actor_id == user_id)
    actions = [a.action for a in audits]
    assert actions[:2] == ["user.registered", "user.login_succeeded"]
    assert "user.account_closed" in actions
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "UserAccountClosed"
    )
    assert [e.payload["user_id"] for e in events] == [str(user_id)]
    # The address is free again: someone may register it anew.
    again = await client.post(
        "/api/v1/users", json={"email": "ada@example.com", "password": NEW_PASSWORD}
    )
    assert again.status_code == 201, again.text


async def test_closing_needs_the_password(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")

    wrong = await client.request(
        "DELETE",
        ME_URL,
        json={"password": "not it at all!"},
        headers=bearer(tokens["access_token"]),
    )
    missing = await client.request(
        "DELETE", ME_URL, json={}, headers=bearer(tokens["access_token"])
    )

    body = assert_problem(wrong, status=422, code="invalid_current_password")
    assert [(e["location"], e["pointer"], e["field"]) for e in body["errors"]] == [
        ("body.password", "/password", "password")
    ]
    assert_problem(missing, status=422, code="validation_error")
    assert (await client.get(ME_URL, headers=bearer(tokens["access_token"]))).status_code == 200
    [audit] = await fetch(
        container, AuditLogModel, AuditLogModel.action == "user.account_close_failed"
    )
    assert audit.reason == "wrong_password"
    listed = await client.get(SESSIONS_URL, headers=bearer(tokens["access_token"]))
    assert len(listed.json()["items"]) == 1
