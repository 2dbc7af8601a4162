"""CSV export: spreadsheet-safe cells, owner-scoped, audited."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.presentation.api.finance.export import spreadsheet_safe
from tests.api.support import FastContainer, bearer, create_user, fetch, tokens_for

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
HEADER = "date,amount,currency,description,payee,memo,status,id,check_number,reference"


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
    (await container.read_audit_log.flush()).unwrap()  # read records are written in batches
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
    assert response.text.strip().splitlines() == [HEADER]


SEPARATORS = [",", ";", "\t", "|", "\n", "\r"]


def _no_cell_is_a_formula(text: str) -> None:
    """However a spreadsheet splits ``text`` (quotes ignored), no piece but a number starts
    with a formula trigger."""
    pieces = [text]
    for separator in SEPARATORS:
        pieces = [part for piece in pieces for part in piece.split(separator)]
    for piece in pieces:
        if re.fullmatch(r"-?[0-9]+\.[0-9]+", piece):
            continue  # an amount: a number, not a formula
        assert not piece.lstrip(" ").startswith(("=", "+", "-", "@")), (text, piece)


@given(st.text(alphabet=st.sampled_from("=+-@\t\r\n ,;|ab'")))
def test_no_separator_can_start_a_formula_in_a_neutralised_cell(text: str) -> None:
    _no_cell_is_a_formula(spreadsheet_safe(text))
    assert spreadsheet_safe(text).replace("'", "") == text.replace("'", "")


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("x;=cmd|' /C calc'!A0", "x;'=cmd|' /C calc'!A0"),
        ("a, +1", "a, '+1"),
        ("a\t@SUM(A1)", "a\t'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("Refund -12.00", "Refund -12.00"),
    ],
)
def test_formula_triggers_after_separators_are_neutralised(text: str, safe: str) -> None:
    assert spreadsheet_safe(text) == safe


async def test_a_semicolon_splitting_spreadsheet_finds_no_formula(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "export@example.com")
    headers = bearer((await tokens_for(client, "export@example.com"))["access_token"])
    created = await client.post(
        "/api/v1/connections", json={"provider": "csv-file", "label": "x"}, headers=headers
    )
    data = b'Date,Description,Amount,Memo\n2026-11-02,"x;=cmd|\' /C calc\'!A0",-12.34,"a|@SUM(1)"\n'
    mapping = {"date": "Date", "description": "Description", "amount": "Amount", "memo": "Memo"}
    imported = await client.post(
        f"/api/v1/connections/{created.json()['id']}/imports",
        files={"file": ("x.csv", data)},
        data={"mapping": json.dumps(mapping)},
        headers=headers,
    )
    assert imported.status_code == 200, imported.text

    response = await client.get("/api/v1/transactions.csv", headers=headers)

    [header, row] = response.text.strip().split("\r\n")
    assert header == HEADER
    _no_cell_is_a_formula(row.replace('"', ""))
    [cells] = list(csv.reader(io.StringIO(row)))
    assert cells[1] == "-12.34"  # a bare number a spreadsheet can sum
    assert ",-12.34," in row
    assert cells[3] == "x;'=cmd|' /C calc'!A0"
    assert cells[5] == "a|'@SUM(1)"
