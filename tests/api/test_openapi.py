"""The OpenAPI document is the API: every error status it answers is declared, as a problem."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI

from dashtam.domain.providers.entities import ProviderSlug
from dashtam.presentation.api.openapi import PROBLEM_REF
from tests.api.finance_support import CONNECTIONS_URL, TRANSACTIONS_URL, sign_up
from tests.api.support import PASSWORD, PROBLEM_JSON, USERS_URL

METHODS = ("get", "put", "post", "delete", "patch")
UNAUTHENTICATED = {
    ("get", "/health"),
    ("get", "/ready"),
    ("post", "/api/v1/users"),
    ("post", "/api/v1/sessions"),
    ("post", "/api/v1/sessions/mfa"),
    ("post", "/api/v1/tokens"),
}
NO_DATABASE = {("get", "/health")}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def declared(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = document["paths"][path][method]["responses"]
    return responses


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_every_error_response_is_a_problem(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}, (
                    method,
                    path,
                    status,
                )
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "trace_id",
    }
    assert {"instance", "errors"} <= set(schemas["Problem"]["properties"])


async def test_each_operation_declares_the_statuses_it_can_answer(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        statuses = {int(status) for status in operation["responses"]}
        where = (method, path, sorted(statuses))
        if (method, path) not in UNAUTHENTICATED:
            assert operation.get("security"), where
        if operation.get("security"):
            assert 401 in statuses, where
            assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]["required"]
            # A personal access token can be refused anywhere (scope, or not accepted at all).
            assert 403 in statuses, where
            assert "WWW-Authenticate" in operation["responses"]["403"]["headers"], where
        if path.startswith("/api/v1/admin/"):
            assert 403 in statuses, where
        if "{" in path:
            assert {404, 422} <= statuses, where
        if "requestBody" in operation or operation.get("parameters"):
            assert 422 in statuses, where
        if "requestBody" in operation:
            assert 400 in statuses, where  # a body that cannot be decoded
        if "requestBody" in operation and method in ("post", "put", "patch"):
            assert 413 in statuses, where
        if (method, path) not in NO_DATABASE:
            assert 503 in statuses, where
        else:
            assert not [s for s in statuses if s >= 400], where
    assert 429 in {int(s) for s in declared(document, "post", "/api/v1/sessions")}


async def test_authenticated_operations_name_the_bearer_scheme(document: dict[str, Any]) -> None:
    # The scheme is stated by the document's builder, not solved as a dependency per request.
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "The access token of POST /sessions, or a personal access token "
            "(dtm_pat_...)",
        }
    }
    for method, path, operation in operations(document):
        if (method, path) in UNAUTHENTICATED:
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)


async def test_constraints_in_the_document_are_the_apis(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    connection = schemas["CreateConnectionRequest"]["properties"]
    assert connection["provider"]["enum"] == [slug.value for slug in ProviderSlug]
    assert re.fullmatch(connection["label"]["pattern"], "Chase checking")
    assert not re.fullmatch(connection["label"]["pattern"], "Chase\x00")
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/transactions"]["get"]["parameters"]
    }
    amount = parameters["min_amount"]["anyOf"][0]
    assert re.fullmatch(amount["pattern"], "-99999999999999.9999")
    assert not re.fullmatch(amount["pattern"], "100000000000000")
    assert not re.fullmatch(amount["pattern"], "1e15")


async def _sample_errors(client: httpx.AsyncClient) -> list[tuple[str, str, httpx.Response]]:
    """(method, path template, response) of real error answers of each kind."""
    headers = await sign_up(client, "ada@example.com")
    body = {"email": "ada@example.com", "password": PASSWORD}
    return [
        ("get", "/api/v1/accounts", await client.get("/api/v1/accounts")),
        (
            "get",
            "/api/v1/users/me",
            await client.get("/api/v1/users/me", headers=headers | {"authorization": "Bearer x"}),
        ),
        (
            "delete",
            "/api/v1/connections/{connection_id}",
            await client.delete(f"{CONNECTIONS_URL}/{uuid4()}", headers=headers),
        ),
        (
            "get",
            "/api/v1/transactions",
            await client.get(TRANSACTIONS_URL, params={"limit": "0"}, headers=headers),
        ),
        (
            "post",
            "/api/v1/connections",
            await client.post(CONNECTIONS_URL, json={"provider": "plaid"}, headers=headers),
        ),
        ("post", "/api/v1/users", await client.post(USERS_URL, json=body)),
        (
            "post",
            "/api/v1/sessions",
            await client.post(
                "/api/v1/sessions", content=b"\xff", headers={"content-type": "application/json"}
            ),
        ),
        (
            "post",
            "/api/v1/users",
            await client.post(USERS_URL, content=b"x" * (1024 * 1024 + 1)),
        ),
        (
            "get",
            "/api/v1/admin/users",
            await client.get("/api/v1/admin/users", headers=headers),
        ),
    ]


async def test_real_error_responses_are_declared_for_their_route(
    client: httpx.AsyncClient, app: FastAPI, document: dict[str, Any]
) -> None:
    samples = await _sample_errors(client)

    statuses = sorted({response.status_code for _, _, response in samples})
    assert statuses == [400, 401, 403, 404, 409, 413, 422]
    problem = document["components"]["schemas"]["Problem"]
    for method, path, response in samples:
        responses = declared(document, method, path)
        assert str(response.status_code) in responses, (method, path, response.status_code)
        media_type = response.headers["content-type"].split(";")[0]
        assert media_type in responses[str(response.status_code)]["content"]
        assert set(problem["required"]) <= set(response.json())
