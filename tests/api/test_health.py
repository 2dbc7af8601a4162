"""Liveness, readiness and the X-Request-ID contract."""

from __future__ import annotations

from uuid import UUID

import httpx
import pytest

from tests.api.support import assert_problem


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["database"]) == ("ready", "ok")


async def test_a_safe_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    sent = "req-2024.11_abc:42"

    response = await client.get("/health", headers={"X-Request-ID": sent})

    assert response.headers["x-request-id"] == sent


async def test_a_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")

    generated = first.headers["x-request-id"]
    assert UUID(generated).version == 7
    assert second.headers["x-request-id"] != generated


@pytest.mark.parametrize(
    "unsafe",
    ["has spaces in it", "a" * 200, "semi;colon", "new\tline", "é-accent"],
    ids=["spaces", "too-long", "semicolon", "tab", "non-ascii"],
)
async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient, unsafe: str) -> None:
    response = await client.get(
        "/health", headers=[(b"x-request-id", unsafe.encode("latin-1", "replace"))]
    )

    returned = response.headers["x-request-id"]
    assert returned != unsafe
    assert UUID(returned).version == 7


async def test_the_problem_trace_id_is_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route", headers={"X-Request-ID": "trace-404"})

    body = assert_problem(response, status=404, code="not_found")
    assert body["trace_id"] == "trace-404"
