"""Every error leaves the API as RFC 9457 problem+json with a stable code and the trace id."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.api.support import assert_problem

USERS = "/api/v1/users"


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")

    body = assert_problem(response, status=404, code="not_found")
    assert body["instance"] == "/api/v1/nothing-here"
    assert body["title"] == "Not Found"


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.get(USERS)

    body = assert_problem(response, status=405, code="method_not_allowed")
    assert body["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "POST"


async def test_405_allows_every_method_of_every_route_on_the_path(
    client: httpx.AsyncClient,
) -> None:
    # GET and POST /connections are two routes; the first alone would say "Allow: GET".
    response = await client.put("/api/v1/connections")

    assert_problem(response, status=405, code="method_not_allowed")
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        USERS, content=b'{"email": "a@b.co", ', headers={"content-type": "application/json"}
    )

    body = assert_problem(response, status=422, code="validation_error")
    assert [error["type"] for error in body["errors"]] == ["json_invalid"]


async def test_missing_field_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(USERS, json={"email": "ada@example.com"})

    body = assert_problem(response, status=422, code="validation_error")
    assert body["errors"] == [
        {
            "location": "body.password",
            "pointer": "/password",
            "message": "Field required",
            "type": "missing",
        }
    ]


async def test_extra_field_is_422_and_cannot_choose_a_role(client: httpx.AsyncClient) -> None:
    response = await client.post(
        USERS,
        json={"email": "ada@example.com", "password": "a long passphrase", "role": "admin"},
    )

    body = assert_problem(response, status=422, code="validation_error")
    assert [(e["location"], e["type"]) for e in body["errors"]] == [
        ("body.role", "extra_forbidden")
    ]


async def test_wrong_json_type_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(USERS, json=["ada@example.com", "a long passphrase"])

    assert_problem(response, status=422, code="validation_error")


async def test_unexpected_exception_is_500_without_internals(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    response = await client.get("/boom")

    body = assert_problem(response, status=500, code="internal_error")
    assert body["title"] == "Internal Server Error"
    assert body["trace_id"] == response.headers["x-request-id"]
    assert "secret internals" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text


async def test_500_carries_the_request_id_the_client_sent(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.post("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    response = await client.post("/boom", headers={"X-Request-ID": "client-trace-500"})

    body = assert_problem(response, status=500, code="internal_error")
    assert body["trace_id"] == "client-trace-500"
    assert "secret internals" not in response.text
