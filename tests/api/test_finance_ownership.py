"""Another user's financial data is 404 (never 403); no token is 401; every read is audited."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from dashtam.infrastructure.persistence.models import AuditLogModel
from tests.api.finance_support import (
    ACCOUNTS_URL,
    CONNECTIONS_URL,
    NET_WORTH_URL,
    TRANSACTIONS_URL,
    accounts_of,
    connect,
    finance_row_counts,
    imported,
    sign_up,
    upload,
)
from tests.api.support import FastContainer, assert_problem, assert_unauthorized, fetch

READ_URLS = [CONNECTIONS_URL, ACCOUNTS_URL, TRANSACTIONS_URL, NET_WORTH_URL]


async def test_another_users_data_is_not_found_and_untouched(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    ada = await sign_up(client, "ada@example.com")
    connection = await connect(client, ada, "ofx-file")
    await imported(client, ada, connection, "checking_ofx1_sgml.ofx")
    [account] = await accounts_of(client, ada)
    eve = await sign_up(client, "eve@example.com")
    own = await connect(client, eve, "ofx-file")
    account_url = f"{ACCOUNTS_URL}/{account['id']}"

    refused = {
        "import": await upload(client, eve, connection, "savings.qfx"),
        "disconnect": await client.delete(f"{CONNECTIONS_URL}/{connection}", headers=eve),
        "purge": await client.delete(
            f"{CONNECTIONS_URL}/{connection}", params={"purge": "true"}, headers=eve
        ),
        "account": await client.get(account_url, headers=eve),
        "history": await client.get(f"{account_url}/balance-history", headers=eve),
        "delete": await client.delete(account_url, headers=eve),
        "filter": await client.get(
            TRANSACTIONS_URL, params={"account": account["id"]}, headers=eve
        ),
    }
    missing = await client.get(f"{ACCOUNTS_URL}/{own}", headers=eve)  # an id, but not an account

    for name, response in refused.items():
        body = assert_problem(response, status=404, code="not_found")
        assert "ada" not in body["detail"], name
    # Indistinguishable from an id that exists nowhere.
    assert refused["account"].json()["detail"] == missing.json()["detail"]
    for url in READ_URLS:
        listed = await client.get(url, headers=eve)
        assert listed.status_code == 200, listed.text
        ids = [item["id"] for item in listed.json()["items"]]
        assert ids == ([own] if url == CONNECTIONS_URL else []), url
    # Nothing of Ada's changed.
    assert await finance_row_counts(container) == (1, 4, 1)
    [connection_seen] = (await client.get(CONNECTIONS_URL, headers=ada)).json()["items"]
    assert connection_seen["status"] == "active"
    assert (await client.get(account_url, headers=ada)).status_code == 200
    denied = await fetch(
        container,
        AuditLogModel,
        AuditLogModel.outcome == "failed",
        AuditLogModel.reason == "not_found",
    )
    # Refused writes and refused reads (account, balance history, ?account=) alike.
    assert {a.action for a in denied} == {
        "import.failed",
        "connection.disconnected",
        "account.deleted",
        "financial_data.read",
    }
    assert {a.details["view"] for a in denied if a.action == "financial_data.read"} == {
        "account",
        "balance_history",
        "transactions",
    }
    eve_id = denied[0].actor_id
    assert all(a.actor_id == eve_id for a in denied)


async def test_every_endpoint_needs_a_token(client: httpx.AsyncClient) -> None:
    some_id = "0190a000-0000-7000-8000-000000000000"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", CONNECTIONS_URL, {}),
        ("POST", CONNECTIONS_URL, {"json": {"provider": "manual"}}),
        ("DELETE", f"{CONNECTIONS_URL}/{some_id}", {}),
        (
            "POST",
            f"{CONNECTIONS_URL}/{some_id}/imports",
            {"files": {"file": ("a.ofx", b"x", "text/plain")}},
        ),
        ("GET", ACCOUNTS_URL, {}),
        ("GET", f"{ACCOUNTS_URL}/{some_id}", {}),
        ("GET", f"{ACCOUNTS_URL}/{some_id}/balance-history", {}),
        ("DELETE", f"{ACCOUNTS_URL}/{some_id}", {}),
        ("GET", TRANSACTIONS_URL, {}),
        ("GET", NET_WORTH_URL, {}),
    ]

    for method, url, options in calls:
        response = await client.request(method, url, **options)
        assert_unauthorized(response, code="missing_token")
    rejected = await client.get(ACCOUNTS_URL, headers={"authorization": "Bearer not.a.token"})
    assert rejected.status_code == 401, rejected.text


AUDITED_READS = [
    # (path, resource type, view, names the account)
    ("/connections", "provider_connection", "connections", False),
    ("/accounts", "account", "accounts", False),
    ("/accounts/{id}", "account", "account", True),
    ("/accounts/{id}/balance-history", "account", "balance_history", True),
    ("/transactions", "transaction", "transactions", False),
    ("/transactions?account={id}", "transaction", "transactions", True),
    ("/users/me/net-worth", "account", "net_worth", False),
]


async def test_every_read_is_audited_as_a_sensitive_read(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")
    [account] = await accounts_of(client, headers)
    reads = AuditLogModel.action == "financial_data.read"

    for path, resource_type, view, names_account in AUDITED_READS:
        (await container.read_audit_log.flush()).unwrap()  # the set-up's reads too
        before = {row.id for row in await fetch(container, AuditLogModel, reads)}
        response = await client.get(
            "/api/v1" + path.format(id=account["id"]),
            headers={**headers, "user-agent": "audit-test"},
        )

        assert response.status_code == 200, response.text
        (await container.read_audit_log.flush()).unwrap()  # read records are written in batches
        [read] = [
            row for row in await fetch(container, AuditLogModel, reads) if row.id not in before
        ]
        assert (read.outcome, read.resource_type, read.details["view"]) == (
            "succeeded",
            resource_type,
            view,
        ), path
        assert read.trace_id == response.headers["x-request-id"]
        assert read.user_agent == "audit-test"
        assert read.actor_id is not None
        assert read.resource_id == (UUID(account["id"]) if names_account else None), path
