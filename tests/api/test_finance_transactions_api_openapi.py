"""The document shows the transaction and account fields, one filter set, one error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.finance_support import TRANSACTIONS_URL


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def parameters(document: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    operation = document["paths"][path]["get"]
    return {p["name"]: p for p in operation["parameters"]}


async def test_transactions_and_accounts_show_their_new_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    transaction = schemas["TransactionResponse"]
    account = schemas["AccountResponse"]

    assert {"check_number", "reference", "transfer_id"} <= set(transaction["required"])
    assert transaction["properties"]["transfer_id"]["anyOf"][0]["format"] == "uuid"
    assert {"available_balance", "available_balance_as_of"} <= set(account["required"])
    assert account["properties"]["available_balance_as_of"]["anyOf"][0]["format"] == "date-time"


async def test_the_csv_declares_exactly_the_lists_filters(document: dict[str, Any]) -> None:
    listing = parameters(document, TRANSACTIONS_URL)
    export = parameters(document, TRANSACTIONS_URL + ".csv")

    assert set(listing) - set(export) == {"limit", "cursor"}  # paging is the list's alone
    assert set(export) == {"account", "from", "to", "min_amount", "max_amount", "q", "transfers"}
    for name, parameter in export.items():
        assert parameter == listing[name], name
    assert "422" in document["paths"][TRANSACTIONS_URL + ".csv"]["get"]["responses"]


async def test_an_error_entrys_location_is_a_string(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["Problem"]["properties"]["errors"]
    item_ref = problem["anyOf"][0]["items"]["$ref"]
    item = schemas[item_ref.rsplit("/", 1)[-1]]["properties"]

    assert item["location"]["type"] == "string"
    assert item["pointer"]["type"] == "string"
    assert "JSON Pointer" in item["pointer"]["description"]
    assert {"message", "type"} <= set(item)
