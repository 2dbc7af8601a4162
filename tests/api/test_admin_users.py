"""GET, PATCH and DELETE /api/v1/admin/users as an administrator."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from dashtam.core.ids import new_id
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.persistence.models import AuditLogModel, OutboxEventModel, UserModel
from tests.api.support import (
    ADMIN_USERS_URL,
    ME_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    fetch,
    log_in,
    tokens_for,
)


@pytest.fixture
async def admin_headers(client: httpx.AsyncClient, container: FastContainer) -> dict[str, str]:
    await create_user(container, "root@example.com", role=Role.ADMIN)
    return bearer((await tokens_for(client, "root@example.com"))["access_token"])


async def list_users(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(ADMIN_USERS_URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def emails(page: dict[str, Any]) -> list[str]:
    return sorted(item["email"] for item in page["items"])


async def test_list_filters_by_email_fragment_role_and_active(
    client: httpx.AsyncClient, container: FastContainer, admin_headers: dict[str, str]
) -> None:
    ada = await create_user(container, "ada@lovelace.example")
    await create_user(container, "grace@hopper.example")
    await create_user(container, "alan@turing.example", role=Role.ADMIN)
    disabled = await client.patch(
        f"{ADMIN_USERS_URL}/{ada}", json={"is_active": False}, headers=admin_headers
    )
    assert disabled.status_code == 200, disabled.text

    everyone = await list_users(client, admin_headers)
    by_fragment = await list_users(client, admin_headers, email="HOPPER")
    admins = await list_users(client, admin_headers, role="admin")
    inactive = await list_users(client, admin_headers, active="false")
    active_users = await list_users(client, admin_headers, active="true", role="user")

    assert len(everyone["items"]) == 4
    assert everyone["next_cursor"] is None
    assert set(everyone["items"][0]) == {"id", "email", "role", "is_active", "created_at"}
    assert emails(by_fragment) == ["grace@hopper.example"]
    assert emails(admins) == ["alan@turing.example", "root@example.com"]
    assert emails(inactive) == ["ada@lovelace.example"]
    assert emails(active_users) == ["grace@hopper.example"]
    assert "password" not in str(everyone)
    assert emails(await list_users(client, admin_headers, email="%")) == []  # LIKE is escaped
    (await container.read_audit_log.flush()).unwrap()  # read records are written in batches
    listed = await fetch(container, AuditLogModel, AuditLogModel.action == "admin.users_listed")
    assert len(listed) == 6
    assert listed[1].details["email_contains"] == "HOPPER"
    assert listed[1].details["returned"] == 1


async def test_cursor_pagination_walks_every_user_once(
    client: httpx.AsyncClient, container: FastContainer, admin_headers: dict[str, str]
) -> None:
    for index in range(6):
        await create_user(container, f"user{index}@example.com")

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        page = await list_users(client, admin_headers, **params)
        pages += 1
        assert len(page["items"]) <= 2
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"

    assert len(seen) == 7  # six users and the admin
    assert len(set(seen)) == 7
    assert seen == sorted(seen, key=UUID)  # a stable order: ids are time-ordered UUIDv7
    assert pages in (4, 5)  # the last full page may be followed by an empty one


INVALID_QUERIES: list[dict[str, Any]] = [
    {"cursor": "!!!not-base64!!!"},
    {"cursor": "AAAA"},  # base64, but not 16 bytes
    {"limit": 0},
    {"limit": 100000},
    {"role": "superuser"},
    {"active": "maybe"},
]


async def test_invalid_query_parameters_are_422(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for params in INVALID_QUERIES:
        response = await client.get(ADMIN_USERS_URL, params=params, headers=admin_headers)

        assert response.status_code == 422, (params, response.text)
        assert_problem(response, status=422, code="validation_error")


async def test_patch_changes_role_and_is_audited(
    client: httpx.AsyncClient, container: FastContainer, admin_headers: dict[str, str]
) -> None:
    ada = await create_user(container, "ada@example.com")

    response = await client.patch(
        f"{ADMIN_USERS_URL}/{ada}", json={"role": "admin"}, headers=admin_headers
    )

    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["is_active"]) == ("admin", True)
    [row] = await fetch(container, UserModel, UserModel.id == ada)
    assert (row.role, row.version) == ("admin", 2)
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "admin.user_updated")
    assert (audit.outcome, audit.resource_id) == ("succeeded", ada)
    assert audit.details["changes"] == {"role": {"from": "user", "to": "admin"}}
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "UserUpdatedByAdmin"
    )
    assert len(events) == 1
    # The promoted user can now use the admin routes.
    ada_headers = bearer((await tokens_for(client, "ada@example.com"))["access_token"])
    assert (await client.get(ADMIN_USERS_URL, headers=ada_headers)).status_code == 200


async def test_deactivating_a_user_ends_their_sessions(
    client: httpx.AsyncClient, container: FastContainer, admin_headers: dict[str, str]
) -> None:
    ada = await create_user(container, "ada@example.com")
    ada_tokens = await tokens_for(client, "ada@example.com")

    response = await client.patch(
        f"{ADMIN_USERS_URL}/{ada}", json={"is_active": False}, headers=admin_headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert_unauthorized(
        await client.get(ME_URL, headers=bearer(ada_tokens["access_token"])), code="token_revoked"
    )
    assert_unauthorized(await log_in(client, "ada@example.com"), code="invalid_credentials")
    reactivated = await client.patch(
        f"{ADMIN_USERS_URL}/{ada}", json={"is_active": True}, headers=admin_headers
    )
    assert reactivated.status_code == 200, reactivated.text
    assert (await log_in(client, "ada@example.com")).status_code == 201


async def test_patch_rejects_an_empty_body_self_modification_and_unknown_users(
    client: httpx.AsyncClient, container: FastContainer, admin_headers: dict[str, str]
) -> None:
    ada = await create_user(container, "ada@example.com")
    me = (await client.get(ME_URL, headers=admin_headers)).json()["id"]

    empty = await client.patch(f"{ADMIN_USERS_URL}/{ada}", json={}, headers=admin_headers)
    unknown_field = await client.patch(
        f"{ADMIN_USERS_URL}/{ada}", json={"email": "x@example.com"}, headers=admin_headers
    )
    myself = await client.patch(
        f"{ADMIN_USERS_URL}/{me}", json={"role": "user"}, headers=admin_headers
    )
    missing = await client.patch(
        f"{ADMIN_USERS_URL}/{new_id()}", json={"role": "user"}, headers=admin_headers
    )

    assert_problem(empty, status=422, code="validation_error")
    assert_problem(unknown_field, status=422, code="validation_error")
    assert_problem(myself, status=409, code="self_modification")
    assert_problem(missing, status=404, code="not_found")
    [row] = await fetch(container, UserModel, UserModel.id == UUID(me))
    assert row.role == "admin"
    failed = await fetch(container, AuditLogModel, AuditLogModel.outcome == "failed")
    assert [(a.action, a.reason) for a in failed] == [
        ("admin.user_updated", "self_modification"),
        ("admin.user_updated", "not_found"),
    ]


async def test_delete_removes_the_user_then_404(
    client: httpx.AsyncClient, container: FastContainer, admin_headers: dict[str, str]
) -> None:
    ada = await create_user(container, "ada@example.com")
    await tokens_for(client, "ada@example.com")

    deleted = await client.delete(f"{ADMIN_USERS_URL}/{ada}", headers=admin_headers)
    again = await client.delete(f"{ADMIN_USERS_URL}/{ada}", headers=admin_headers)

    assert deleted.status_code == 204, deleted.text
    assert_problem(again, status=404, code="not_found")
    assert await fetch(container, UserModel, UserModel.id == ada) == []
    assert_unauthorized(await log_in(client, "ada@example.com"), code="invalid_credentials")
    audits = await fetch(container, AuditLogModel, AuditLogModel.action == "admin.user_deleted")
    assert [(a.outcome, a.resource_id) for a in audits] == [
        ("succeeded", ada),
        ("failed", ada),
    ]
    # Ada's own history outlives her row.
    assert await fetch(container, AuditLogModel, AuditLogModel.actor_id == ada)


async def test_an_admin_cannot_delete_themselves_here(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = (await client.get(ME_URL, headers=admin_headers)).json()["id"]

    response = await client.delete(f"{ADMIN_USERS_URL}/{me}", headers=admin_headers)

    assert_problem(response, status=409, code="self_deletion")
    assert (await client.get(ME_URL, headers=admin_headers)).status_code == 200


@pytest.mark.parametrize(
    "body", [{"is_active": 0}, {"is_active": "false"}, {"role": None}, {"is_active": None}, {}]
)
async def test_an_update_is_given_exactly_or_refused(
    client: httpx.AsyncClient,
    container: FastContainer,
    admin_headers: dict[str, str],
    body: dict[str, object],
) -> None:
    ada = await create_user(container, "ada@lovelace.example")

    response = await client.patch(f"{ADMIN_USERS_URL}/{ada}", json=body, headers=admin_headers)

    assert_problem(response, status=422, code="validation_error")
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    declared = schema["UpdateUserRequest"]
    # What the API refuses, its document refuses too (schemathesis checks both directions).
    assert declared["minProperties"] == 1
    assert declared["properties"]["is_active"] == {"title": "Is Active", "type": "boolean"}
    assert "anyOf" not in declared["properties"]["role"]
