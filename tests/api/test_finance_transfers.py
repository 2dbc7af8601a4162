"""Pending-then-posted and transfers through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from dashtam.infrastructure.persistence.models import AuditLogModel, TransactionModel
from tests.api.finance_support import (
    NET_WORTH_URL,
    TRANSACTIONS_URL,
    accounts_of,
    all_transactions,
    connect,
    count,
    imported,
    sign_up,
)
from tests.api.support import FastContainer, assert_problem, fetch

CARD_MAPPING = {
    "transaction_id": "Transaction Id",
    "date": "Date",
    "description": "Description",
    "amount": "Amount",
    "status": "Status",
    "account_type": "credit_card",
}


def counts(report: dict[str, Any]) -> tuple[int, int, int]:
    return (
        report["transactions_new"],
        report["transactions_updated"],
        report["transactions_unchanged"],
    )


def by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["provider_transaction_id"]: item for item in items}


def transfer_url(transaction_id: str) -> str:
    return f"{TRANSACTIONS_URL}/{transaction_id}/transfer"


async def test_a_pending_purchase_and_its_posting_are_one_transaction(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "csv-file")

    async def load(name: str) -> dict[str, Any]:
        return await imported(client, headers, connection, name, mapping=CARD_MAPPING)

    assert counts(await load("card_pending.csv")) == (3, 0, 0)
    before = by_key(await all_transactions(client, headers))

    # The coffee posts two days later, the dinner with a 20% tip; the Lyft ride is new.
    assert counts(await load("card_posted.csv")) == (1, 2, 1)
    after = by_key(await all_transactions(client, headers))
    assert sorted(after) == ["A-8990", "B-1201", "B-1202", "B-1203"]
    coffee, dinner = after["B-1201"], after["B-1202"]
    assert (coffee["id"], coffee["status"], coffee["posted_on"]) == (
        before["A-9001"]["id"],
        "posted",
        "2026-11-22",
    )
    assert (dinner["id"], dinner["amount"], dinner["description"]) == (
        before["A-9002"]["id"],
        "-57.60",
        "Trattoria Roma SF",
    )

    # Either file again, in any order: nothing moves, no pending row comes back.
    assert counts(await load("card_pending.csv")) == (0, 0, 3)
    assert counts(await load("card_posted.csv")) == (0, 0, 4)
    assert by_key(await all_transactions(client, headers)) == after
    assert await count(container, TransactionModel) == 4


async def test_transfers_are_linked_and_the_owner_has_the_last_word(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "own_transfer.ofx")
    items = by_key(await all_transactions(client, headers))
    out, into = items["CHK-20261110-1"], items["SAV-20261111-1"]
    assert (out["transfer_id"], into["transfer_id"]) == (into["id"], out["id"])
    assert [k for k, v in items.items() if v["transfer_id"]] == ["SAV-20261111-1", "CHK-20261110-1"]

    unlinked = await client.delete(transfer_url(out["id"]), headers=headers)
    assert unlinked.status_code == 204, unlinked.text
    await imported(client, headers, connection, "own_transfer.ofx")  # does not link them again
    items = by_key(await all_transactions(client, headers))
    assert {v["transfer_id"] for v in items.values()} == {None}
    [audit] = await fetch(
        container, AuditLogModel, AuditLogModel.action == "transaction.transfer_unlinked"
    )
    assert (audit.outcome, str(audit.resource_id), audit.details["other_id"]) == (
        "succeeded",
        out["id"],
        into["id"],
    )

    relinked = await client.put(
        transfer_url(into["id"]), json={"other_id": out["id"]}, headers=headers
    )
    assert relinked.status_code == 200, relinked.text
    body = relinked.json()
    assert (body["transaction"]["transfer_id"], body["other"]["transfer_id"]) == (
        out["id"],
        into["id"],
    )
    items = by_key(await all_transactions(client, headers))
    assert (items["CHK-20261110-1"]["transfer_id"], items["SAV-20261111-1"]["transfer_id"]) == (
        into["id"],
        out["id"],
    )
    [linked] = await fetch(
        container, AuditLogModel, AuditLogModel.action == "transaction.transfer_linked"
    )
    assert (linked.outcome, str(linked.actor_id)) == ("succeeded", str(audit.actor_id))


async def test_net_worth_is_the_balances_whatever_the_links(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "own_transfer.ofx")
    balances = sum(Decimal(a["balance"]) for a in await accounts_of(client, headers))

    async def net_worth() -> str:
        response = await client.get(NET_WORTH_URL, headers=headers)
        assert response.status_code == 200, response.text
        [usd] = response.json()["items"]
        return str(usd["net_worth"])

    linked = await net_worth()
    assert Decimal(linked) == balances == Decimal("15018.87")
    out = by_key(await all_transactions(client, headers))["CHK-20261110-1"]
    assert (await client.delete(transfer_url(out["id"]), headers=headers)).status_code == 204
    assert await net_worth() == linked


async def test_a_manual_link_must_be_a_transfer_between_the_callers_accounts(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    eve = await sign_up(client, "eve@example.com")
    await imported(client, ada, await connect(client, ada, "ofx-file"), "own_transfer.ofx")
    await imported(client, eve, await connect(client, eve, "ofx-file"), "savings.qfx")
    mine = by_key(await all_transactions(client, ada))
    theirs = (await all_transactions(client, eve))[0]
    payroll, water = mine["CHK-20261103-1"], mine["CHK-20261112-1"]
    interest = mine["SAV-20261130-1"]

    same_account = await client.put(
        transfer_url(payroll["id"]), json={"other_id": water["id"]}, headers=ada
    )
    assert_problem(same_account, status=409, code="not_a_transfer")
    same_sign = await client.put(
        transfer_url(payroll["id"]), json={"other_id": interest["id"]}, headers=ada
    )
    assert_problem(same_sign, status=409, code="not_a_transfer")
    foreign = await client.put(
        transfer_url(water["id"]), json={"other_id": theirs["id"]}, headers=ada
    )
    assert_problem(foreign, status=404, code="not_found")
    assert_problem(
        await client.delete(transfer_url(theirs["id"]), headers=ada), status=404, code="not_found"
    )
    bad = await client.put(transfer_url(water["id"]), json={"other": water["id"]}, headers=ada)
    assert bad.status_code == 422, bad.text

    ok = await client.put(transfer_url(water["id"]), json={"other_id": interest["id"]}, headers=ada)
    assert ok.status_code == 200, ok.text
    failed = await fetch(
        container,
        AuditLogModel,
        AuditLogModel.action == "transaction.transfer_linked",
        AuditLogModel.outcome == "failed",
    )
    assert [a.reason for a in failed] == ["not_a_transfer", "not_a_transfer", "not_found"]


async def test_transfers_can_be_left_out_of_a_list_or_listed_alone(
    client: httpx.AsyncClient,
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "own_transfer.ofx")
    everything = by_key(await all_transactions(client, headers))
    linked = {key for key, item in everything.items() if item["transfer_id"]}
    assert linked == {"CHK-20261110-1", "SAV-20261111-1"}

    async def listed(transfers: str, url: str = TRANSACTIONS_URL) -> set[str]:
        response = await client.get(url, params={"transfers": transfers}, headers=headers)
        assert response.status_code == 200, response.text
        return {item["provider_transaction_id"] for item in response.json()["items"]}

    assert await listed("only") == linked
    assert await listed("exclude") == set(everything) - linked
    assert await listed("include") == set(everything)
    export = await client.get(
        f"{TRANSACTIONS_URL}.csv", params={"transfers": "exclude"}, headers=headers
    )
    assert export.status_code == 200
    assert not any(key in export.text for key in linked), "the CSV takes the same filters"
    refused = await client.get(TRANSACTIONS_URL, params={"transfers": "some"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["location"] == "query.transfers"
