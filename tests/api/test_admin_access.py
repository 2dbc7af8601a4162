"""Non-administrators on the admin routes: 403, nothing changed, and the refusal audited."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
import pytest

from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.persistence.models import AuditLogModel, UserModel
from tests.api.support import (
    ADMIN_USERS_URL,
    FastContainer,
    assert_problem,
    bearer,
    create_user,
    fetch,
    tokens_for,
)

ROUTES = ["list", "patch", "delete"]


def request_for(route: str, target: UUID) -> tuple[str, str, dict[str, Any] | None]:
    return {
        "list": ("GET", ADMIN_USERS_URL, None),
        "patch": ("PATCH", f"{ADMIN_USERS_URL}/{target}", {"role": "admin"}),
        "delete": ("DELETE", f"{ADMIN_USERS_URL}/{target}", None),
    }[route]


@pytest.mark.parametrize("route", ROUTES)
async def test_a_user_on_an_admin_route_is_403_and_audited(
    client: httpx.AsyncClient, container: FastContainer, route: str
) -> None:
    await create_user(container, "root@example.com", role=Role.ADMIN)
    mallory = await create_user(container, "mallory@example.com")
    victim = await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "mallory@example.com")
    method, url, body = request_for(route, victim)

    response = await client.request(
        method,
        url,
        json=body,
        headers=bearer(tokens["access_token"]) | {"x-request-id": "denied-trace"},
    )

    problem = assert_problem(response, status=403, code="forbidden")
    assert "www-authenticate" not in response.headers  # authenticated, just not allowed
    assert "ada@example.com" not in response.text
    [denied] = await fetch(container, AuditLogModel, AuditLogModel.action == "admin.access_denied")
    assert (denied.outcome, denied.actor_id, denied.reason) == ("denied", mallory, "not_an_admin")
    assert denied.details["path"] == url
    assert (denied.trace_id, denied.ip_address) == ("denied-trace", "127.0.0.1")
    assert problem["instance"] == url
    # Nothing happened to the target.
    [row] = await fetch(container, UserModel, UserModel.id == victim)
    assert (row.role, row.is_active, row.version) == ("user", True, 1)
    assert await fetch(container, AuditLogModel, AuditLogModel.action.like("admin.user%")) == []
    assert await fetch(container, AuditLogModel, AuditLogModel.action == "admin.users_listed") == []


async def test_a_demoted_admin_loses_access_at_once(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "root@example.com", role=Role.ADMIN)
    alan = await create_user(container, "alan@example.com", role=Role.ADMIN)
    root = bearer((await tokens_for(client, "root@example.com"))["access_token"])
    alan_headers = bearer((await tokens_for(client, "alan@example.com"))["access_token"])
    assert (await client.get(ADMIN_USERS_URL, headers=alan_headers)).status_code == 200

    demoted = await client.patch(f"{ADMIN_USERS_URL}/{alan}", json={"role": "user"}, headers=root)
    assert demoted.status_code == 200, demoted.text

    # The same, still valid, access token: the role is read per request, not from the token.
    response = await client.get(ADMIN_USERS_URL, headers=alan_headers)
    assert_problem(response, status=403, code="forbidden")
