"""POST, GET and DELETE /api/v1/tokens/personal: a token is shown once, stored as a digest,
listed without its text, revoked by its owner only; every write audited."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from uuid import UUID

import httpx
import pytest

from dashtam.core.ids import new_id
from dashtam.domain.personal_tokens.entities import MAX_ACTIVE_TOKENS_PER_USER
from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    OutboxEventModel,
    PersonalTokenModel,
)
from tests.api.finance_support import sign_up
from tests.api.personal_token_support import create_token, listed
from tests.api.support import PERSONAL_TOKENS_URL, FastContainer, assert_problem, fetch

CREATED = AuditLogModel.action == "token.personal_created"
REVOKED = AuditLogModel.action == "token.personal_revoked"
LISTED_FIELDS = {
    "id",
    "name",
    "scopes",
    "hint",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
}


async def test_the_token_is_answered_once_and_never_stored_or_listed(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    body = {"name": "nightly export", "scopes": ["read", "import"], "expires_in_days": 90}

    response = await client.post(PERSONAL_TOKENS_URL, json=body, headers=ada)

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert set(created) == LISTED_FIELDS | {"token"}
    token: str = created["token"]
    assert token.startswith("dtm_pat_")
    assert len(token) == 57
    assert created["hint"] == "dtm_pat_..." + token[-4:]
    assert (created["name"], created["scopes"]) == ("nightly export", ["import", "read"])
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(
        created["created_at"]
    )
    assert lifetime == timedelta(days=90)
    assert (created["last_used_at"], created["revoked_at"]) == (None, None)

    [item] = await listed(client, ada)
    assert set(item) == LISTED_FIELDS
    assert item == {k: v for k, v in created.items() if k != "token"}
    [row] = await fetch(container, PersonalTokenModel)
    stored = [str(getattr(row, column.key)) for column in row.__table__.columns]
    assert token not in json.dumps(stored)
    assert len(row.token_hash) == 64
    [audit] = await fetch(container, AuditLogModel, CREATED)
    assert (audit.outcome, audit.resource_type, str(audit.resource_id)) == (
        "succeeded",
        "personal_token",
        created["id"],
    )
    assert audit.details == {
        "name": "nightly export",
        "scopes": ["import", "read"],
        "expires_at": datetime.fromisoformat(created["expires_at"]).isoformat(),
    }
    [event] = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "PersonalTokenCreated"
    )
    rows = await fetch(container, AuditLogModel)
    assert token not in json.dumps([r.details for r in rows]) + json.dumps(event.payload)


async def test_a_token_expires_after_30_days_by_default(client: httpx.AsyncClient) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)
    expires, made = (datetime.fromisoformat(created[k]) for k in ("expires_at", "created_at"))
    assert expires - made == timedelta(days=30)


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"name": "", "scopes": ["read"]}, "token_name_required", "/name"),
        ({"name": "   ", "scopes": ["read"]}, "token_name_required", "/name"),
        ({"name": "x" * 101, "scopes": ["read"]}, "token_name_too_long", "/name"),
        ({"name": "a\x00b", "scopes": ["read"]}, "token_name_invalid", "/name"),
        ({"name": "ok", "scopes": []}, "scopes_required", "/scopes"),
        ({"name": "ok", "scopes": ["read", "admin"]}, "unknown_scope", "/scopes"),
        ({"name": "ok", "scopes": ["read"], "expires_in_days": 0}, "invalid_token_lifetime", None),
        (
            {"name": "ok", "scopes": ["read"], "expires_in_days": 366},
            "invalid_token_lifetime",
            None,
        ),
    ],
)
async def test_invalid_input_is_a_problem_and_an_audited_failure(
    client: httpx.AsyncClient,
    container: FastContainer,
    body: dict[str, object],
    code: str,
    pointer: str | None,
) -> None:
    ada = await sign_up(client, "ada@example.com")

    response = await client.post(PERSONAL_TOKENS_URL, json=body, headers=ada)

    problem = assert_problem(response, status=422, code=code)
    [error] = problem["errors"]
    assert error["pointer"] == (pointer or "/expires_in_days")
    assert await fetch(container, PersonalTokenModel) == []
    [audit] = await fetch(container, AuditLogModel, CREATED)
    assert (audit.outcome, audit.reason) == ("failed", code)


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": ["read"]},
        {"name": "ok"},
        {"name": "ok", "scopes": "read"},
        {"name": "ok", "scopes": ["read"], "expires_in_days": "forever"},
        {"name": "ok", "scopes": ["read"], "expires_in_days": 1.5},
        {"name": "ok", "scopes": ["read"], "expires_in_days": True},
        {"name": "ok", "scopes": ["read"], "expires_in_days": "30"},
        {"name": "ok", "scopes": ["read"], "extra": True},
        {"name": "ok", "scopes": ["read"] * 11},
        {"name": "\ud800", "scopes": ["read"]},
        {"name": "ok", "scopes": ["re\udfffad"]},
        {"name": "x" * 1001, "scopes": ["read"]},
    ],
    ids=[
        "no-name",
        "no-scopes",
        "scope-string",
        "days-text",
        "days-fraction",
        "days-bool",
        "days-numeric-text",
        "extra",
        "many",
        "surrogate",
        "surrogate-scope",
        "huge-name",
    ],
)
async def test_malformed_bodies_are_422_problems_never_500(
    client: httpx.AsyncClient, container: FastContainer, body: dict[str, object]
) -> None:
    ada = await sign_up(client, "ada@example.com")
    response = await client.post(
        PERSONAL_TOKENS_URL,
        content=json.dumps(body),  # non-ASCII escaped: a lone surrogate travels too
        headers=ada | {"content-type": "application/json"},
    )
    assert_problem(response, status=422, code="validation_error")
    assert await fetch(container, PersonalTokenModel) == []


async def test_a_user_holds_at_most_50_active_tokens(client: httpx.AsyncClient) -> None:
    ada = await sign_up(client, "ada@example.com")
    made = [await create_token(client, ada) for _ in range(MAX_ACTIVE_TOKENS_PER_USER)]

    response = await client.post(
        PERSONAL_TOKENS_URL, json={"name": "one more", "scopes": ["read"]}, headers=ada
    )
    assert_problem(response, status=409, code="personal_token_limit_reached")

    gone = await client.delete(f"{PERSONAL_TOKENS_URL}/{made[0]['id']}", headers=ada)
    assert gone.status_code == 204
    await create_token(client, ada)


async def test_the_list_is_mine_newest_first_in_pages(client: httpx.AsyncClient) -> None:
    ada = await sign_up(client, "ada@example.com")
    eve = await sign_up(client, "eve@example.com")
    mine = [await create_token(client, ada, name=f"t{n}") for n in range(3)]
    await create_token(client, eve, name="eve's")

    first = (await client.get(PERSONAL_TOKENS_URL, params={"limit": 2}, headers=ada)).json()
    assert [i["name"] for i in first["items"]] == ["t2", "t1"]
    assert first["next_cursor"]
    rest = await client.get(
        PERSONAL_TOKENS_URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ada
    )
    assert [i["id"] for i in rest.json()["items"]] == [mine[0]["id"]]
    assert rest.json()["next_cursor"] is None
    for cursor in ("not-a-cursor!", "AAAA"):
        bad = await client.get(PERSONAL_TOKENS_URL, params={"cursor": cursor}, headers=ada)
        assert_problem(bad, status=422, code="validation_error")


async def test_revoking_shows_in_the_list_and_is_audited(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    created = await create_token(client, ada)

    response = await client.delete(f"{PERSONAL_TOKENS_URL}/{created['id']}", headers=ada)

    assert response.status_code == 204
    [item] = await listed(client, ada)
    assert item["revoked_at"] is not None
    again = await client.delete(f"{PERSONAL_TOKENS_URL}/{created['id']}", headers=ada)
    assert again.status_code == 204  # already revoked: nothing to do
    [audit] = await fetch(container, AuditLogModel, REVOKED)
    assert (audit.outcome, str(audit.resource_id)) == ("succeeded", created["id"])
    [event] = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "PersonalTokenRevoked"
    )
    assert event.payload["token_id"] == created["id"]


async def test_someone_elses_token_is_404_exactly_like_a_missing_one(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    eve = await sign_up(client, "eve@example.com")
    adas = await create_token(client, ada)

    theirs = await client.delete(f"{PERSONAL_TOKENS_URL}/{adas['id']}", headers=eve)
    missing = await client.delete(f"{PERSONAL_TOKENS_URL}/{new_id()}", headers=eve)

    first = assert_problem(theirs, status=404, code="not_found")
    second = assert_problem(missing, status=404, code="not_found")
    assert first["detail"] == second["detail"]
    assert [i["revoked_at"] for i in await listed(client, ada)] == [None]
    failures = await fetch(container, AuditLogModel, REVOKED)
    assert [(a.outcome, a.reason) for a in failures] == [("failed", "not_found")] * 2
    assert UUID(adas["id"]) in {a.resource_id for a in failures}
    malformed = await client.delete(f"{PERSONAL_TOKENS_URL}/not-a-uuid", headers=ada)
    assert_problem(malformed, status=422, code="validation_error")
