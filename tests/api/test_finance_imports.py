"""File imports over HTTP: every format, idempotency, all-or-nothing, limits and safety."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.models import AuditLogModel, ConnectionModel
from tests.api.finance_support import (
    CHECKING_ACCTID,
    accounts_of,
    all_transactions,
    connect,
    finance_row_counts,
    fixture_bytes,
    imported,
    sign_up,
    upload,
)
from tests.api.support import FastContainer, assert_problem, fetch, running

SINGLE_FILE_REPORTS = [
    # (fixture, form fields, format, transactions, balance snapshots)
    ("checking_ofx1_sgml.ofx", {}, "ofx", 4, 1),
    ("creditcard_ofx2.ofx", {}, "ofx", 3, 1),
    ("savings.qfx", {}, "ofx", 4, 1),
    ("chase_checking.csv", {"preset": "chase-checking"}, "csv", 6, 1),
    ("bank_of_america.csv", {"preset": "bank-of-america"}, "csv", 3, 1),
]


@pytest.mark.parametrize(("name", "form", "kind", "transactions", "snapshots"), SINGLE_FILE_REPORTS)
async def test_import_reports_counts_and_a_second_import_adds_nothing(
    client: httpx.AsyncClient,
    container: FastContainer,
    name: str,
    form: dict[str, str],
    kind: str,
    transactions: int,
    snapshots: int,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file" if kind == "csv" else "ofx-file")

    first = await imported(client, headers, connection, name, **form)
    second = await imported(client, headers, connection, name, **form)

    assert first == {
        "connection_id": connection,
        "format": kind,
        "accounts_created": 1,
        "accounts_updated": 0,
        "transactions_new": transactions,
        "transactions_updated": 0,
        "transactions_unchanged": 0,
        "transactions_outdated": 0,
        "balance_snapshots_added": snapshots,
        # Bank of America's "Beginning balance" row is a balance, not a transaction.
        "skipped": {"balance lines": 1} if name == "bank_of_america.csv" else {},
        "holdings_added": 0,
        "investment_transactions_new": 0,
        "investment_transactions_updated": 0,
        "investment_transactions_unchanged": 0,
        "investment_transactions_outdated": 0,
    }
    assert second == {
        **first,
        "accounts_created": 0,
        "accounts_updated": 1,
        "transactions_new": 0,
        "transactions_unchanged": transactions,
        "balance_snapshots_added": 0,
    }
    assert await finance_row_counts(container) == (1, transactions, snapshots)
    [row] = await fetch(container, ConnectionModel)
    assert row.last_import_at is not None
    audits = await fetch(container, AuditLogModel, AuditLogModel.action == "import.succeeded")
    assert [a.details["transactions_new"] for a in audits] == [transactions, 0]


async def test_csv_rows_without_ids_stay_distinct_and_formulas_are_plain_data(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")
    await imported(client, headers, connection, "chase_checking.csv", preset="chase-checking")

    items = await all_transactions(client, headers)

    coffees = [t for t in items if t["description"] == "BLUE BOTTLE COFFEE"]
    assert [t["amount"] for t in coffees] == ["-4.75", "-4.75"]
    assert len({t["provider_transaction_id"] for t in coffees}) == 2
    assert all(t["provider_transaction_id"].startswith("csv:") for t in items)
    [formula] = [t for t in items if t["amount"] == "-3.50"]
    assert formula["description"] == "=cmd|' /C calc'!A0"  # stored verbatim, as text
    [account] = await accounts_of(client, headers)
    assert (account["name"], account["number"]) == ("my csv-file", "main")
    assert (account["balance"], account["currency"]) == ("4873.12", "USD")


async def test_a_custom_mapping_reads_a_european_export(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")
    mapping = {
        "date": "Buchungstag",
        "description": "Empfänger",
        "memo": "Verwendungszweck",
        "amount": "Betrag",
        "currency": "EUR",
        "decimal_separator": ",",
        "date_format": "%d.%m.%Y",
        "account_type": "savings",
    }

    report = await imported(
        client, headers, connection, "european_semicolon.csv", mapping=mapping, account="giro"
    )

    assert report["transactions_new"] == 2
    items = await all_transactions(client, headers)
    assert [(t["amount"], t["posted_on"], t["memo"]) for t in items] == [
        ("3210.00", "2026-11-05", "Gehalt November"),
        ("-23.45", "2026-11-03", "Kartenzahlung"),
    ]
    assert {t["currency"] for t in items} == {"EUR"}
    [account] = await accounts_of(client, headers)
    assert (account["type"], account["currency"], account["number"]) == ("savings", "EUR", "giro")


async def test_a_later_csv_updates_pending_rows_and_adds_only_new_ones(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")
    mapping = {"date": "Date", "description": "Text", "amount": "Amt", "transaction_id": "Id"}
    mapping["status"] = "State"
    early = (
        b"Id,Date,Text,Amt,State\n"
        b"T1,2026-11-01,Rent,-900.00,posted\n"
        b"T2,2026-11-02,Cafe,-3,pending\n"
    )
    later = early.replace(b"-3,pending", b"-3.20,posted") + b"T3,2026-11-03,Book,-12.5,posted\n"

    await imported(client, headers, connection, "early.csv", data=early, mapping=mapping)
    report = await imported(client, headers, connection, "later.csv", data=later, mapping=mapping)

    assert (
        report["transactions_new"],
        report["transactions_updated"],
        report["transactions_unchanged"],
    ) == (1, 1, 1)
    items = await all_transactions(client, headers)
    assert [(t["provider_transaction_id"], t["amount"], t["status"]) for t in items] == [
        ("T3", "-12.50", "posted"),
        ("T2", "-3.20", "posted"),
        ("T1", "-900.00", "posted"),
    ]


@pytest.mark.parametrize(
    ("name", "form", "code", "location"),
    [
        ("malformed_amount.ofx", {}, "invalid_amount", "STMTRS #1 STMTTRN #4 TRNAMT"),
        (
            "malformed_amount.csv",
            {"preset": "chase-checking"},
            "invalid_amount",
            'line 3 column "Amount"',
        ),
        ("malformed_date.csv", {"preset": "chase-checking"}, "invalid_date", "line 3"),
        ("xxe.ofx", {}, "unsafe_file", "line 2"),
        ("billion_laughs.ofx", {}, "unsafe_file", "line 2"),
    ],
)
async def test_a_bad_file_is_422_naming_where_and_stores_nothing(
    client: httpx.AsyncClient,
    container: FastContainer,
    name: str,
    form: dict[str, Any],
    code: str,
    location: str,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file" if name.endswith("csv") else "ofx-file")

    response = await upload(client, headers, connection, name, **form)

    body = assert_problem(response, status=422, code=code)
    assert body["detail"].startswith(f"{location}: ")
    assert body["errors"] == [
        {
            "location": location,
            "message": body["detail"].removeprefix(f"{location}: "),
            "type": code,
        }
    ]
    assert "/etc/passwd" not in response.text
    assert await finance_row_counts(container) == (0, 0, 0)
    [row] = await fetch(container, ConnectionModel)
    assert row.last_import_at is None
    [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "import.failed")
    assert (audit.outcome, audit.reason) == ("failed", code)


async def test_a_file_failing_after_writes_began_leaves_no_row(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")
    # Two statements: a new account (written first), then the known account in another
    # currency with a newer balance -- refused only after the first one's rows were sent.
    text = fixture_bytes("checking_ofx1_sgml.ofx").decode()
    start, end = text.index("<STMTTRNRS>"), text.index("</STMTTRNRS>") + len("</STMTTRNRS>")
    block = text[start:end]
    fresh = block.replace(CHECKING_ACCTID, "555500001111").replace("<FITID>2026", "<FITID>N")
    foreign = block.replace("<CURDEF>USD", "<CURDEF>EUR").replace("3253.34", "1.00")
    foreign = foreign.replace("20261120120000[-5:EST]", "20261125120000[-5:EST]")
    data = (text[:start] + fresh + foreign + text[end:]).encode()

    response = await upload(client, headers, connection, "two.ofx", data=data)

    assert_problem(response, status=409, code="currency_mismatch")
    assert CHECKING_ACCTID not in response.text
    assert await finance_row_counts(container) == (1, 4, 1)
    [account] = await accounts_of(client, headers)
    assert account["balance"] == "3253.34"


BAD_CSV_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({}, "invalid_mapping"),
    ({"preset": "no-such-bank"}, "invalid_mapping"),
    ({"mapping": "not json"}, "invalid_mapping"),
    ({"mapping": '["date"]'}, "invalid_mapping"),
    (
        {
            "mapping": '{"date": "Posting Date", "description": "Description", "amount": "Amount", '
            '"colour": "x"}'
        },
        "invalid_mapping",
    ),
    ({"mapping": '{"date": "Posting Date", "description": "Description"}'}, "invalid_mapping"),
    (
        {
            "mapping": '{"date": "Posting Date", "description": "Description", "amount": "Amount", '
            '"account_type": "pension"}'
        },
        "invalid_mapping",
    ),
    (
        {"mapping": '{"date": "D", "description": "X", "amount": "A", "currency": "EURO"}'},
        "invalid_currency",
    ),
]


async def test_a_csv_import_needs_a_valid_preset_or_mapping(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")

    for form, code in BAD_CSV_OPTIONS:
        response = await upload(client, headers, connection, "chase_checking.csv", **form)
        assert_problem(response, status=422, code=code)

    assert await finance_row_counts(container) == (0, 0, 0)
    # The same file with its preset is fine: the refusals above were about the options.
    await imported(client, headers, connection, "chase_checking.csv", preset="chase-checking")


async def test_file_size_and_row_limits(settings: Settings) -> None:
    limited = Settings(
        DATABASE_URL=settings.database_url,
        DASHTAM_ENV="test",
        LOG_LEVEL="WARNING",
        DASHTAM_IMPORT_MAX_BYTES=2048,
        DASHTAM_IMPORT_MAX_ROWS=3,
    )
    container = FastContainer(limited)
    async with running(container) as (_app, client):
        headers = await sign_up(client, "ada@example.com")
        connection = await connect(client, headers, "ofx-file")
        padded = fixture_bytes("creditcard_ofx2.ofx") + b"\n" * 400  # 2,109 bytes

        too_big = await upload(client, headers, connection, "big.ofx", data=padded)
        too_many = await upload(client, headers, connection, "checking_ofx1_sgml.ofx")
        fits = await upload(client, headers, connection, "creditcard_ofx2.ofx")

        body = assert_problem(too_big, status=413, code="file_too_large")
        assert "2048 bytes" in body["detail"]
        assert_problem(too_many, status=422, code="too_many_rows")
        assert fits.status_code == 200, fits.text
        assert await finance_row_counts(container) == (1, 3, 1)


async def test_an_import_needs_a_file(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")

    missing = await client.post(
        f"/api/v1/connections/{connection}/imports", data={"preset": "x"}, headers=headers
    )
    empty = await upload(client, headers, connection, "empty.ofx", data=b"  \n")

    assert_problem(missing, status=422, code="validation_error")
    assert_problem(empty, status=422, code="empty_file")
