"""``GET /transactions.csv``: the list's filters and refusals, every row, read in pages."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import uuid4

import httpx
import pytest

from dashtam.application.finance.commands import SearchTransactions
from dashtam.application.finance.queries import FinanceQueries, TransactionSlice
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result
from dashtam.infrastructure.errors import DatabaseUnavailableError
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.presentation.api.finance import export
from tests.api.finance_support import (
    TRANSACTIONS_URL,
    accounts_of,
    all_transactions,
    connect,
    imported,
    sign_up,
)
from tests.api.support import FastContainer, assert_problem, fetch
from tests.unit.importers.support import bank_ofx, stmttrn

CSV_URL = TRANSACTIONS_URL + ".csv"
Row = tuple[str, str, str, str]


async def eleven_transactions(client: httpx.AsyncClient) -> dict[str, str]:
    """Checking (4, USD), credit card (3, EUR) and savings (4, USD)."""
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    for name in ("checking_ofx1_sgml.ofx", "creditcard_ofx2.ofx", "savings.qfx"):
        await imported(client, headers, connection, name)
    return headers


async def csv_rows(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, str]]:
    response = await client.get(CSV_URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def listed(items: list[dict[str, Any]]) -> list[Row]:
    return [
        (i["posted_on"], i["amount"], i["currency"], i["provider_transaction_id"]) for i in items
    ]


def exported(rows: list[dict[str, str]]) -> list[Row]:
    return [(r["date"], r["amount"], r["currency"], r["id"]) for r in rows]


async def reads(container: FastContainer) -> int:
    (await container.read_audit_log.flush()).unwrap()
    found = await fetch(container, AuditLogModel, AuditLogModel.action == "financial_data.read")
    return sum(1 for entry in found if entry.details.get("view") == "transactions")


FILTERS: list[dict[str, str]] = [
    {"from": "2026-11-04", "to": "2026-11-10"},
    {"from": "2026-11-10"},
    {"to": "2026-11-04"},
    {"min_amount": "-50", "max_amount": "-0.99"},
    {"min_amount": "0"},
    {"max_amount": "-1000"},
    {"q": "pos purch"},
    {"q": "AIR FRANCE"},
    {"account": "card"},
    {"account": "card", "min_amount": "0", "q": "thank"},
]


@pytest.mark.parametrize("params", FILTERS, ids=lambda p: "&".join(p))
async def test_the_csv_holds_exactly_what_the_list_holds_for_each_filter(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    headers = await eleven_transactions(client)
    if params.get("account") == "card":
        card = next(a for a in await accounts_of(client, headers) if a["type"] == "credit_card")
        params = params | {"account": card["id"]}

    expected = listed(await all_transactions(client, headers, **params))
    rows = exported(await csv_rows(client, headers, **params))

    assert 0 < len(expected) < 11, "each filter must narrow the eleven rows"
    assert rows == expected


BAD_FILTERS: list[dict[str, str]] = [
    {"min_amount": "ten"},
    {"max_amount": "1e15"},
    {"account": "not-a-uuid"},
    {"from": "yesterday"},
    {"to": "2026-1-2"},
    {"q": "x" * 101},
    {"q": "caf\x00e"},
    {"min_amount": "ten", "q": "x" * 101},
]


@pytest.mark.parametrize("params", BAD_FILTERS, ids=lambda p: "&".join(p))
async def test_a_bad_filter_is_the_same_422_on_both_routes(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    headers = await sign_up(client, "ada@example.com")

    answers = [
        await client.get(url, params=params, headers=headers) for url in (TRANSACTIONS_URL, CSV_URL)
    ]

    listing, export_ = (assert_problem(a, status=422, code="validation_error") for a in answers)
    assert listing["errors"] == export_["errors"]
    assert listing["detail"] == export_["detail"]
    assert {e["location"] for e in export_["errors"]} == {f"query.{name}" for name in params}


async def test_another_users_account_is_404_before_any_csv_is_sent(
    client: httpx.AsyncClient,
) -> None:
    owner = await eleven_transactions(client)
    [account, *_] = await accounts_of(client, owner)
    stranger = await sign_up(client, "eve@example.com")

    for account_id in (account["id"], str(uuid4())):
        response = await client.get(CSV_URL, params={"account": account_id}, headers=stranger)
        assert_problem(response, status=404, code="not_found")


@pytest.mark.parametrize(("page_size", "pages"), [(2, 6), (3, 4), (11, 1), (12, 1), (1000, 1)])
async def test_every_row_is_exported_one_page_read_at_a_time(
    client: httpx.AsyncClient,
    container: FastContainer,
    monkeypatch: pytest.MonkeyPatch,
    page_size: int,
    pages: int,
) -> None:
    headers = await eleven_transactions(client)
    expected = listed(await all_transactions(client, headers))
    monkeypatch.setattr(export, "EXPORT_PAGE", page_size)
    before = await reads(container)

    rows = exported(await csv_rows(client, headers))

    assert rows == expected  # all eleven, newest first, none twice
    # Each page is one audited read of page_size + 1 rows; a full last page needs no more.
    assert await reads(container) - before == pages


async def test_more_rows_than_a_list_page_are_exported_over_many_pages(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    many = [stmttrn(fitid=f"T{n}", amount=f"-{n}.00") for n in range(1, 251)]
    await imported(client, headers, connection, "many.ofx", data=bank_ofx(*many))
    monkeypatch.setattr(export, "EXPORT_PAGE", 7)

    rows = await csv_rows(client, headers, max_amount="-1.00")

    # More rows than one list page (200) holds, read 7 at a time (36 pages): none lost.
    assert sorted(int(r["id"][1:]) for r in rows) == list(range(1, 251))


async def test_new_columns_come_last_and_are_spreadsheet_safe(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    detail = "<CHECKNUM>1042</CHECKNUM><REFNUM>=1+2</REFNUM>"
    data = bank_ofx(stmttrn(fitid="C1", extra=detail), stmttrn(fitid="P1", posted="20261101"))
    await imported(client, headers, connection, "checks.ofx", data=data)

    response = await client.get(CSV_URL, headers=headers)

    header, *_ = response.text.split("\r\n")
    assert header == ",".join(export.HEADER)
    assert export.HEADER[-2:] == ("check_number", "reference")
    assert export.HEADER[:8] == (
        "date",
        "amount",
        "currency",
        "description",
        "payee",
        "memo",
        "status",
        "id",
    )
    check, plain = csv.DictReader(io.StringIO(response.text))
    assert (check["id"], check["check_number"], check["reference"]) == ("C1", "1042", "'=1+2")
    assert (plain["id"], plain["check_number"], plain["reference"]) == ("P1", "", "")
    listed_check, _ = await all_transactions(client, headers)  # the JSON keeps the raw text
    assert (listed_check["check_number"], listed_check["reference"]) == ("1042", "=1+2")


class FailingAfterFirstPage:
    """The real queries, except that every page after the first fails (the database went)."""

    def __init__(self, queries: FinanceQueries) -> None:
        self._queries = queries
        self.pages = 0

    async def transaction_page(
        self, command: SearchTransactions, *, max_limit: int
    ) -> Result[TransactionSlice, Error]:
        self.pages += 1
        if self.pages > 1:
            return Failure(DatabaseUnavailableError("the database went away"))
        return await self._queries.transaction_page(command, max_limit=max_limit)


async def test_a_failure_after_the_first_page_breaks_the_download(
    client: httpx.AsyncClient, container: FastContainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = await eleven_transactions(client)
    failing = FailingAfterFirstPage(container.finance_queries())
    monkeypatch.setattr(container, "finance_queries", lambda: failing)
    monkeypatch.setattr(export, "EXPORT_PAGE", 5)

    # The 200 went out with the first page: the response is aborted, never ended short.
    with pytest.raises(export.ExportInterruptedError):
        await client.get(CSV_URL, headers=headers)
    assert failing.pages == 2
