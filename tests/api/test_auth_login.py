"""POST /api/v1/sessions: log in, and the failures that must all look alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import jwt

from dashtam.application.admin.commands import UpdateUser
from dashtam.core.ids import new_id
from dashtam.domain.audit import AuditContext
from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    AuthSessionModel,
    LoginAttemptModel,
    OutboxEventModel,
    RefreshTokenModel,
)
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
    tokens_for,
)

AGENT = "dashtam-login-tests/1.0"


async def test_log_in_answers_oauth2_tokens_that_must_not_be_cached(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")

    response = await client.post(
        SESSIONS_URL,
        json={"email": "Ada@Example.com", "password": PASSWORD},
        headers={"user-agent": AGENT},
    )

    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "password_change_recommended",
    }
    assert body["token_type"] == "bearer"
    assert body["password_change_recommended"] is False
    assert body["expires_in"] == 900
    assert "no-store" in response.headers["cache-control"]
    claims = jwt.decode(
        body["access_token"],
        container.settings.secret_key.get_secret_value(),
        algorithms=["HS256"],
        issuer="dashtam",
    )
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    assert claims["sub"] == str(user_id)
    assert claims["exp"] - claims["iat"] == 900
    assert {"jti", "sid"} <= set(claims)
    [session] = await fetch(container, AuthSessionModel)
    assert claims["sid"] == str(session.id)
    assert session.user_id == user_id
    assert (session.ip_address, session.user_agent) == ("127.0.0.1", AGENT)
    assert session.expires_at - session.created_at == timedelta(hours=1)  # the idle timeout
    [stored] = await fetch(container, RefreshTokenModel)
    assert stored.session_id == session.id
    assert body["refresh_token"] not in stored.token_hash  # only a keyed hash is kept
    assert len(stored.token_hash) == 64
    me = await client.get(ME_URL, headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(user_id)


async def test_log_in_is_audited_and_emits_user_logged_in(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")

    await tokens_for(client, "ada@example.com")

    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "user.login_succeeded")
    [session] = await fetch(container, AuthSessionModel)
    assert (audit.outcome, audit.actor_id, audit.resource_id) == ("succeeded", user_id, session.id)
    events = await fetch(container, OutboxEventModel, OutboxEventModel.event_type == "UserLoggedIn")
    assert [e.payload["session_id"] for e in events] == [str(session.id)]
    # Counted as failed before the password check, then uncounted by the success.
    [attempt] = await fetch(container, LoginAttemptModel)
    assert attempt.succeeded is True
    assert "ada@example.com" not in attempt.account_key  # the raw address is not stored


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")

    wrong = await log_in(client, "ada@example.com", "not the right passphrase")
    unknown = await log_in(client, "nobody@example.com", "not the right passphrase")

    first = assert_unauthorized(wrong, code="invalid_credentials")
    second = assert_unauthorized(unknown, code="invalid_credentials")
    assert first["detail"] == second["detail"]
    assert first["title"] == second["title"]
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    assert "access_token" not in wrong.text
    failed = await fetch(container, AuditLogModel, AuditLogModel.action == "user.login_failed")
    assert [(a.outcome, a.reason, a.actor_id) for a in failed] == [
        ("failed", "wrong_password", user_id),
        ("failed", "unknown_account", None),
    ]
    assert [a.details["email"] for a in failed] == ["ada@example.com", "nobody@example.com"]
    assert all(a.ip_address == "127.0.0.1" for a in failed)
    assert "not the right passphrase" not in str([a.details for a in failed])
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "UserLoginFailed"
    )
    assert [e.payload["reason"] for e in events] == ["wrong_password", "unknown_account"]
    assert await fetch(container, AuthSessionModel) == []


async def test_a_malformed_email_is_just_invalid_credentials(client: httpx.AsyncClient) -> None:
    response = await log_in(client, "not-an-email", PASSWORD)

    assert_unauthorized(response, code="invalid_credentials")


async def test_a_body_without_password_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(SESSIONS_URL, json={"email": "ada@example.com"})

    assert_problem(response, status=422, code="validation_error")


async def test_a_closed_account_cannot_log_in(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "ada@example.com")
    closed = await client.request(
        "DELETE", ME_URL, json={"password": PASSWORD}, headers=bearer(tokens["access_token"])
    )
    assert closed.status_code == 204, closed.text

    response = await log_in(client, "ada@example.com", PASSWORD)

    assert_unauthorized(response, code="invalid_credentials")
    [failed] = await fetch(container, AuditLogModel, AuditLogModel.action == "user.login_failed")
    assert (failed.outcome, failed.reason) == ("failed", "unknown_account")


async def test_a_deactivated_account_cannot_log_in_with_the_right_password(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    user_id = await create_user(container, "ada@example.com")
    admin_context = AuditContext(actor_id=new_id())
    deactivated = await container.update_user_handler().handle(
        UpdateUser(user_id=user_id, role=None, is_active=False, context=admin_context)
    )
    assert deactivated.is_success()

    response = await log_in(client, "ada@example.com", PASSWORD)

    assert_unauthorized(response, code="invalid_credentials")
    [failed] = await fetch(container, AuditLogModel, AuditLogModel.action == "user.login_failed")
    assert (failed.reason, failed.actor_id) == ("account_disabled", user_id)
    assert await fetch(container, AuthSessionModel) == []


async def test_each_log_in_is_its_own_session(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")

    first = await tokens_for(client, "ada@example.com")
    second = await tokens_for(client, "ada@example.com")

    assert first["refresh_token"] != second["refresh_token"]
    sessions = await fetch(container, AuthSessionModel)
    assert len(sessions) == 2
    assert all(s.created_at.utcoffset() is not None for s in sessions)
    assert all(abs(s.created_at - datetime.now(UTC)) < timedelta(minutes=1) for s in sessions), (
        "sessions are stamped with the current UTC time"
    )
    session_ids = {
        UUID(jwt.decode(t["access_token"], options={"verify_signature": False})["sid"])
        for t in (first, second)
    }
    assert session_ids == {s.id for s in sessions}
