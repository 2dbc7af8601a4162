"""CSV export: spreadsheet-safe cells, owner-scoped, audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx

from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.api.support import FastContainer, bearer, create_user, fetch, tokens_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"


async def _import_chase(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await client.post(
        "/api/v1/connections", json={"provider": "csv-file", "label": "Chase"}, headers=headers
    )
    assert created.status_code == 201, created.text
    imported = await client.post(
        f"/api/v1/connections/{created.json()['id']}/imports",
        files={"file": ("chase.csv", (FIXTURES / "chase_checking.csv").read_bytes())},
        data={"preset": "chase-checking"},
        headers=headers,
    )
    assert imported.status_code == 200, imported.text


async def test_formula_cells_are_exported_as_text(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "export@example.com")
    headers = bearer((await tokens_for(client, "export@example.com"))["access_token"])
    await _import_chase(client, headers)

    response = await client.get("/api/v1/transactions.csv", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 6
    formula = next(row for row in rows if "calc" in row["description"])
    # Stored verbatim, exported with a leading quote so no spreadsheet evaluates it.
    assert formula["description"] == "'=cmd|' /C calc'!A0"
    # Amounts stay numbers: a negative amount is not mistaken for a formula.
    assert formula["amount"] == "-3.50"
    assert all(not row["description"].startswith(("=", "+", "@")) for row in rows)
    reads = await fetch(container, AuditLogModel, AuditLogModel.action == "financial_data.read")
    assert reads, "the export is a sensitive read and is audited"


async def test_export_holds_only_my_transactions(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "owner@example.com")
    await create_user(container, "other@example.com")
    owner = bearer((await tokens_for(client, "owner@example.com"))["access_token"])
    other = bearer((await tokens_for(client, "other@example.com"))["access_token"])
    await _import_chase(client, owner)

    response = await client.get("/api/v1/transactions.csv", headers=other)

    assert response.status_code == 200
    assert response.text.strip().splitlines() == [
        "date,amount,currency,description,payee,memo,status,id"
    ]
