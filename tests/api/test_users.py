"""POST /api/v1/users end to end: the user, its audit record and its event, in one database."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    EventDeliveryModel,
    OutboxEventModel,
    UserModel,
)
from tests.api.support import FastContainer, assert_problem, fetch

USERS = "/api/v1/users"
PASSWORD = "a long passphrase"
AGENT = "dashtam-api-tests/1.0"


async def register(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, *, trace: str | None = None
) -> httpx.Response:
    headers = {"user-agent": AGENT}
    if trace is not None:
        headers["x-request-id"] = trace
    return await client.post(USERS, json={"email": email, "password": password}, headers=headers)


async def test_register_returns_the_user_without_secrets(client: httpx.AsyncClient) -> None:
    response = await register(client, "ada@example.com")

    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"id", "email", "role", "is_active", "created_at"}
    assert UUID(body["id"]).version == 7
    assert body["email"] == "ada@example.com"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None
    assert PASSWORD not in response.text
    assert "argon2" not in response.text
    assert "hash" not in response.text


async def test_register_accepts_curls_default_form_content_type(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    # `curl -d '{...}'` without -H labels the JSON body as a form; the API reads it as JSON.
    response = await client.post(
        USERS,
        content=b'{"email": "ada@example.com", "password": "a long passphrase"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 201, response.text
    assert [u.email for u in await fetch(container, UserModel)] == ["ada@example.com"]


async def test_register_normalises_the_email(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await register(client, "  Ada.Lovelace@Example.COM ")

    assert response.status_code == 201, response.text
    assert response.json()["email"] == "ada.lovelace@example.com"
    [user] = await fetch(container, UserModel)
    assert user.email == "ada.lovelace@example.com"


async def test_register_stores_an_argon2id_hash(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await register(client, "ada@example.com")

    [user] = await fetch(container, UserModel, UserModel.id == UUID(response.json()["id"]))
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert await container.password_hasher.verify(user.password_hash, PASSWORD)


async def test_register_audits_the_success_in_the_same_commit(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await register(client, "ada@example.com", trace="register-trace-1")

    user_id = UUID(response.json()["id"])
    [audit] = await fetch(container, AuditLogModel)
    assert audit.action == "user.registered"
    assert audit.outcome == "succeeded"
    assert audit.resource_type == "user"
    assert audit.resource_id == user_id
    assert audit.actor_id == user_id
    assert audit.ip_address == "127.0.0.1"
    assert audit.user_agent == AGENT
    assert audit.trace_id == "register-trace-1"
    assert audit.details == {"email": "ada@example.com", "role": "user"}
    assert audit.created_at.utcoffset() is not None


async def test_register_writes_an_outbox_event_delivered_after_commit(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await register(client, "ada@example.com", trace="register-trace-2")

    user_id = response.json()["id"]
    [event] = await fetch(container, OutboxEventModel)
    assert event.event_type == "UserRegistered"
    assert event.payload == {"user_id": user_id, "email": "ada@example.com"}
    assert event.trace_id == "register-trace-2"
    assert event.delivered_at is not None
    assert event.attempts == 1
    assert event.last_error is None
    # Delivered to every subscriber at once: no retry will need to know who had it.
    assert await fetch(container, EventDeliveryModel) == []


async def test_invalid_email_is_422_and_audited_as_failed(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    response = await register(client, "not-an-email", trace="bad-email")

    body = assert_problem(response, status=422, code="validation_error")
    assert [(e["location"], e["pointer"], e["field"]) for e in body["errors"]] == [
        ("body.email", "/email", "email")
    ]
    assert await fetch(container, UserModel) == []
    [audit] = await fetch(container, AuditLogModel)
    assert (audit.action, audit.outcome, audit.reason) == (
        "user.registration_failed",
        "failed",
        "validation_error",
    )
    assert audit.trace_id == "bad-email"
    assert await fetch(container, OutboxEventModel) == []


async def test_short_password_is_422(client: httpx.AsyncClient, container: FastContainer) -> None:
    response = await register(client, "ada@example.com", "too short")

    body = assert_problem(response, status=422, code="password_too_short")
    assert [(e["location"], e["pointer"], e["field"]) for e in body["errors"]] == [
        ("body.password", "/password", "password")
    ]
    assert "too short" not in response.text  # the password itself is never echoed
    assert await fetch(container, UserModel) == []
    [audit] = await fetch(container, AuditLogModel)
    assert (audit.outcome, audit.reason) == ("failed", "password_too_short")
    assert "password" not in audit.details


async def test_duplicate_email_in_another_case_is_409_and_audited(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    first = await register(client, "Ada@Example.com", trace="first")
    second = await register(client, "ADA@example.COM", "another passphrase", trace="second")

    assert first.status_code == 201, first.text
    body = assert_problem(second, status=409, code="email_taken")
    assert body["title"] == "Conflict"
    assert [u.email for u in await fetch(container, UserModel)] == ["ada@example.com"]
    audits = await fetch(container, AuditLogModel)
    assert [(a.action, a.outcome, a.reason, a.trace_id) for a in audits] == [
        ("user.registered", "succeeded", None, "first"),
        ("user.registration_failed", "failed", "email_taken", "second"),
    ]
    failed = audits[1]
    assert failed.resource_id is None
    assert failed.ip_address == "127.0.0.1"
    assert failed.user_agent == AGENT
    assert len(await fetch(container, OutboxEventModel)) == 1


async def test_the_failed_request_left_no_event_and_the_good_one_is_unaffected(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await register(client, "x@example.com", "short")
    ok = await register(client, "y@example.com")

    assert ok.status_code == 201
    events = await fetch(container, OutboxEventModel)
    assert [e.payload["email"] for e in events] == ["y@example.com"]


async def test_a_look_alike_of_a_registered_email_is_409(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    first = await register(client, "ada@example.com")
    # Fullwidth local part, fullwidth domain letter, ideographic stop: one address once folded.
    look_alikes = ["\uff41\uff44\uff41@example.com", "ada@\uff45xample.com", "ada@example\u3002com"]
    responses = [await register(client, email, "another passphrase") for email in look_alikes]

    assert first.status_code == 201, first.text
    for response in responses:
        assert_problem(response, status=409, code="email_taken")
    assert [u.email for u in await fetch(container, UserModel)] == ["ada@example.com"]


async def test_the_stored_email_is_the_canonical_form(client: httpx.AsyncClient) -> None:
    response = await register(client, "\uff21\uff24\uff21@\uff45xample.com")

    assert response.status_code == 201, response.text
    assert response.json()["email"] == "ada@example.com"


def _password_schema(document: dict[str, Any], schema_name: str, field: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][schema_name]["properties"][field]
    return schema


async def test_the_openapi_document_declares_the_password_policy_bounds(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()

    # A new account's password is its only factor (15); a changed one may be 8 with a second.
    for schema_name, field, minimum in [
        ("RegisterUserRequest", "password", 15),
        ("ChangePasswordRequest", "new_password", 8),
    ]:
        declared = _password_schema(document, schema_name, field)
        assert (declared["minLength"], declared["maxLength"]) == (minimum, 128), schema_name
    for schema_name, field in [
        ("LoginRequest", "password"),
        ("ChangePasswordRequest", "current_password"),
        ("CloseAccountRequest", "password"),
    ]:
        assert _password_schema(document, schema_name, field)["maxLength"] == 128, schema_name


@pytest.mark.parametrize(
    ("length", "code"), [(14, "password_too_short"), (129, "password_too_long")]
)
async def test_out_of_bounds_passwords_get_the_policy_codes(
    client: httpx.AsyncClient, length: int, code: str
) -> None:
    # The document's bounds are the policy's, and the policy (not the schema) answers.
    response = await register(client, "ada@example.com", "ab" * (length // 2) + "c" * (length % 2))

    body = assert_problem(response, status=422, code=code)
    assert [(e["location"], e["pointer"], e["field"]) for e in body["errors"]] == [
        ("body.password", "/password", "password")
    ]


async def test_an_absurdly_long_password_is_still_refused_before_hashing(
    client: httpx.AsyncClient,
) -> None:
    response = await register(client, "ada@example.com", "x" * 5000)
    assert_problem(response, status=422, code="validation_error")
