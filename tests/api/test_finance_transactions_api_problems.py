"""One shape for every 422: ``errors[].location`` is a string; body errors add a JSON Pointer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from tests.api.finance_support import (
    TRANSACTIONS_URL,
    connect,
    fixture_bytes,
    sign_up,
    upload,
)
from tests.api.support import PASSWORD, USERS_URL, assert_problem


class Line(BaseModel):
    amount: Decimal


class Basket(BaseModel):
    items: list[Line]
    limits: dict[str, int] = {}


@pytest.fixture
def basket_route(app: FastAPI) -> str:
    """A route with a nested body (the API has none yet), validated like every other."""

    @app.post("/test/baskets")
    async def baskets(basket: Basket) -> None:
        return None

    return "/test/baskets"


def errors_of(response: httpx.Response, code: str = "validation_error") -> list[dict[str, Any]]:
    body = assert_problem(response, status=422, code=code)
    errors: list[dict[str, Any]] = body["errors"]
    return errors


async def test_a_nested_body_error_keeps_every_index_and_points_into_the_body(
    client: httpx.AsyncClient, basket_route: str
) -> None:
    body = {"items": [{"amount": "1.5"}, {"amount": "ten"}], "limits": {"a/b~c": "x"}}

    errors = errors_of(await client.post(basket_route, json=body))

    assert [(e["location"], e["pointer"], e["type"]) for e in errors] == [
        ("body.items.1.amount", "/items/1/amount", "decimal_parsing"),
        ("body.limits.a/b~c", "/limits/a~1b~0c", "int_parsing"),  # RFC 6901 escapes
    ]
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)


async def test_a_missing_body_member_and_a_wrong_body_type(
    client: httpx.AsyncClient, basket_route: str
) -> None:
    missing = errors_of(await client.post(basket_route, json={}))
    wrong = errors_of(await client.post(basket_route, json=["not", "an", "object"]))

    assert [(e["location"], e["pointer"], e["type"]) for e in missing] == [
        ("body.items", "/items", "missing")
    ]
    # The body itself is wrong: the pointer to the whole document is the empty string.
    assert [(e["location"], e["pointer"]) for e in wrong] == [("body", "")]


async def test_query_errors_name_the_parameter_and_have_no_pointer(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")

    response = await client.get(TRANSACTIONS_URL, params={"limit": "0"}, headers=headers)

    [error] = errors_of(response)
    assert (error["location"], error["type"]) == ("query.limit", "greater_than_equal")
    assert "pointer" not in error


async def test_malformed_json_is_located_at_the_body_in_plain_words(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        USERS_URL, content=b'{"email": "a@b.co", ', headers={"content-type": "application/json"}
    )

    [error] = errors_of(response)
    assert (error["location"], error["type"]) == ("body", "json_invalid")
    assert error["message"].startswith("the body is not valid JSON (")
    assert "at character 20" in error["message"]
    assert "pointer" not in error


async def test_an_import_error_is_located_in_the_file(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")

    response = await upload(
        client, headers, connection, "malformed_amount.csv", preset="chase-checking"
    )

    body = assert_problem(response, status=422, code="invalid_amount")
    [error] = body["errors"]
    assert error["location"] == 'line 3 column "Amount"'
    assert error["type"] == "invalid_amount"
    assert body["detail"] == f"{error['location']}: {error['message']}"
    assert "pointer" not in error


async def test_a_handlers_field_error_is_located_in_the_query_or_the_body(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")

    cursor = await client.get(TRANSACTIONS_URL, params={"cursor": "bm9wZQ"}, headers=headers)
    email = await client.post(USERS_URL, json={"email": "not-an-email", "password": PASSWORD})

    [in_query] = errors_of(cursor)
    [in_body] = errors_of(email)
    assert (in_query["location"], in_query["field"], "pointer" in in_query) == (
        "query.cursor",
        "cursor",
        False,
    )
    assert (in_body["location"], in_body["pointer"], in_body["field"]) == (
        "body.email",
        "/email",
        "email",
    )


async def test_every_kind_of_422_has_the_same_shape(
    client: httpx.AsyncClient, basket_route: str
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    answers = [
        await client.get(
            TRANSACTIONS_URL, params={"min_amount": "ten", "q": "a\x00"}, headers=headers
        ),
        await client.post(basket_route, json={"items": [{"amount": []}]}),
        await client.post(USERS_URL, json={"email": "a@b.co", "password": "short"}),
        await client.post(USERS_URL, content=b"{", headers={"content-type": "application/json"}),
        await upload(
            client, headers, connection, "x.ofx", data=fixture_bytes("malformed_amount.ofx")
        ),
    ]

    for response in answers:
        assert response.status_code == 422, response.text
        body = response.json()
        # Plain words: never a Python repr of an exception, a dict or a list.
        assert not any(mark in body["detail"] for mark in ("Error(", "{'", "['")), body
        assert body["errors"], body
        for error in body["errors"]:
            for key in ("location", "message", "type"):
                assert isinstance(error[key], str), error
                assert error[key], error
            assert isinstance(error.get("pointer", ""), str), error
            if "pointer" in error:
                assert error["location"].startswith("body"), error
