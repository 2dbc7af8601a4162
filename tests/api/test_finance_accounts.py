"""Accounts, balance history, account deletion and net worth over HTTP."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from dashtam.infrastructure.persistence.models import (
    AccountModel,
    AuditLogModel,
    BalanceSnapshotModel,
    OutboxEventModel,
    TransactionModel,
)
from tests.api.finance_support import (
    ACCOUNTS_URL,
    CARD_ACCTID,
    CHECKING_ACCTID,
    NET_WORTH_URL,
    SAVINGS_ACCTID,
    accounts_of,
    all_transactions,
    connect,
    fixture_bytes,
    imported,
    sign_up,
)
from tests.api.support import FastContainer, assert_problem, fetch

MASK = "\u2022\u2022\u2022\u2022"
FULL_NUMBERS = (CHECKING_ACCTID, SAVINGS_ACCTID, CARD_ACCTID)


async def three_accounts(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    """Checking (USD), credit card (EUR) and savings (USD) on one OFX connection."""
    connection = await connect(client, headers, "ofx-file")
    for name in ("checking_ofx1_sgml.ofx", "creditcard_ofx2.ofx", "savings.qfx"):
        await imported(client, headers, connection, name)
    return connection


def by_number(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["number"]: item for item in items}


async def test_accounts_are_listed_with_masked_numbers_and_string_balances(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await three_accounts(client, headers)

    response = await client.get(ACCOUNTS_URL, headers=headers)

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items"}
    accounts = by_number(response.json()["items"])
    assert set(accounts) == {MASK + "5678", MASK + "1111", MASK + "4321"}
    checking, card = accounts[MASK + "5678"], accounts[MASK + "1111"]
    assert checking["name"] == f"Checking {MASK}5678"
    assert (checking["type"], checking["currency"]) == ("checking", "USD")
    assert checking["balance"] == "3253.34"
    assert isinstance(checking["balance"], str)
    assert checking["balance_as_of"].startswith("2026-11-20T17:00:00")
    assert checking["connection_id"] == connection
    assert (card["type"], card["currency"], card["balance"]) == ("credit_card", "EUR", "-746.84")
    assert accounts[MASK + "4321"]["type"] == "savings"
    for number in FULL_NUMBERS:
        assert number not in response.text

    single = await client.get(f"{ACCOUNTS_URL}/{checking['id']}", headers=headers)
    assert single.status_code == 200, single.text
    assert single.json() == checking
    assert CHECKING_ACCTID not in single.text


async def test_balance_history_records_each_statement(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")
    newer = (
        fixture_bytes("checking_ofx1_sgml.ofx")
        .replace(b"<BALAMT>3253.34", b"<BALAMT>3000.10")
        .replace(b"<DTASOF>20261120", b"<DTASOF>20261127")
        .replace(b"<TRNAMT>-0.99", b"<TRNAMT>-1.99")
    )
    report = await imported(client, headers, connection, "newer.ofx", data=newer)
    [account] = await accounts_of(client, headers)

    response = await client.get(f"{ACCOUNTS_URL}/{account['id']}/balance-history", headers=headers)

    assert report["balance_snapshots_added"] == 1
    assert (report["transactions_updated"], report["transactions_unchanged"]) == (1, 3)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["account_id"], body["currency"]) == (account["id"], "USD")
    assert [point["balance"] for point in body["items"]] == ["3253.34", "3000.10"]
    assert [point["as_of"][:10] for point in body["items"]] == ["2026-11-20", "2026-11-27"]
    assert account["balance"] == "3000.10"
    assert CHECKING_ACCTID not in response.text


async def test_an_older_statement_does_not_roll_the_balance_back(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    older = (
        fixture_bytes("checking_ofx1_sgml.ofx")
        .replace(b"<BALAMT>3253.34", b"<BALAMT>10.00")
        .replace(b"<DTASOF>20261120", b"<DTASOF>20261001")
    )
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")
    await imported(client, headers, connection, "older.ofx", data=older)

    [account] = await accounts_of(client, headers)
    history = await client.get(f"{ACCOUNTS_URL}/{account['id']}/balance-history", headers=headers)

    assert account["balance"] == "3253.34"
    assert [p["balance"] for p in history.json()["items"]] == ["10.00", "3253.34"]


async def test_deleting_an_account_removes_its_transactions_and_emits_account_deleted(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    await three_accounts(client, headers)
    accounts = by_number(await accounts_of(client, headers))
    doomed, kept = accounts[MASK + "5678"]["id"], accounts[MASK + "4321"]["id"]

    deleted = await client.delete(f"{ACCOUNTS_URL}/{doomed}", headers=headers)

    assert deleted.status_code == 204, deleted.text
    assert_problem(
        await client.get(f"{ACCOUNTS_URL}/{doomed}", headers=headers), status=404, code="not_found"
    )
    assert_problem(
        await client.delete(f"{ACCOUNTS_URL}/{doomed}", headers=headers),
        status=404,
        code="not_found",
    )
    doomed_id = UUID(doomed)
    assert await fetch(container, AccountModel, AccountModel.id == doomed_id) == []
    assert await fetch(container, TransactionModel, TransactionModel.account_id == doomed_id) == []
    assert (
        await fetch(container, BalanceSnapshotModel, BalanceSnapshotModel.account_id == doomed_id)
        == []
    )
    assert len(await fetch(container, TransactionModel)) == 7  # the card's 3 and savings' 4
    assert {t["account_id"] for t in await all_transactions(client, headers)} == {
        kept,
        accounts[MASK + "1111"]["id"],
    }
    [event] = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "AccountDeleted"
    )
    assert event.payload["account_id"] == doomed
    [audit] = await fetch(
        container,
        AuditLogModel,
        AuditLogModel.action == "account.deleted",
        AuditLogModel.outcome == "succeeded",
    )
    assert audit.resource_id == doomed_id
    assert CHECKING_ACCTID not in str(audit.details) + str(event.payload)


async def test_net_worth_sums_each_currency_separately(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    empty = await client.get(NET_WORTH_URL, headers=headers)
    await three_accounts(client, headers)
    csv_connection = await connect(client, headers, "csv-file")
    await imported(client, headers, csv_connection, "bank_of_america.csv", preset="bank-of-america")

    response = await client.get(NET_WORTH_URL, headers=headers)

    assert empty.status_code == 200, empty.text
    assert empty.json() == {"items": []}
    assert response.status_code == 200, response.text
    # USD: checking 3253.34 + savings 3253.34 + BoA 2254.33; EUR: only the card (a liability,
    # exported signed). Nothing is converted between the two.
    assert response.json() == {
        "items": [
            {
                "currency": "EUR",
                "assets": "0.00",
                "liabilities": "-746.84",
                "net_worth": "-746.84",
                "prices_as_of": None,
            },
            {
                "currency": "USD",
                "assets": "8761.01",
                "liabilities": "0.00",
                "net_worth": "8761.01",
                "prices_as_of": None,
            },
        ]
    }
