"""Provider connections over HTTP: create, list, disconnect (keeping or purging its data)."""

from __future__ import annotations

from uuid import UUID

import httpx

from dashtam.infrastructure.persistence.models import (
    AccountModel,
    AuditLogModel,
    ConnectionModel,
    OutboxEventModel,
    TransactionModel,
)
from tests.api.finance_support import (
    CONNECTIONS_URL,
    accounts_of,
    connect,
    count,
    finance_row_counts,
    imported,
    sign_up,
    upload,
)
from tests.api.support import FastContainer, assert_problem, fetch


async def test_create_and_list_connections(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")

    created = await client.post(
        CONNECTIONS_URL,
        json={"provider": "ofx-file", "label": "  Chase checking "},
        headers=headers,
    )
    unlabelled = await client.post(CONNECTIONS_URL, json={"provider": "manual"}, headers=headers)
    listed = await client.get(CONNECTIONS_URL, headers=headers)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["provider"] == "ofx-file"
    assert body["label"] == "Chase checking"
    assert body["status"] == "active"
    assert body["last_import_at"] is None
    assert unlabelled.status_code == 201, unlabelled.text
    assert unlabelled.json()["label"] == "manual"  # the provider's slug stands in for a label
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {item["id"] for item in items} == {body["id"], unlabelled.json()["id"]}
    [row] = await fetch(container, ConnectionModel, ConnectionModel.id == UUID(body["id"]))
    assert (row.provider, row.status) == ("ofx-file", "active")
    events = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "ProviderConnected"
    )
    assert len(events) == 2
    assert {e.payload["provider"] for e in events} == {"ofx-file", "manual"}


async def test_an_unknown_provider_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")

    unknown = await client.post(
        CONNECTIONS_URL, json={"provider": "plaid", "label": "x"}, headers=headers
    )
    extra_field = await client.post(
        CONNECTIONS_URL, json={"provider": "manual", "token": "x"}, headers=headers
    )

    body = assert_problem(unknown, status=422, code="unknown_provider")
    assert "ofx-file" in body["detail"]
    assert_problem(extra_field, status=422, code="validation_error")
    assert await count(container, ConnectionModel) == 0
    [failed] = await fetch(container, AuditLogModel, AuditLogModel.action == "connection.created")
    assert (failed.outcome, failed.reason) == ("failed", "unknown_provider")


async def test_disconnect_keeps_accounts_and_refuses_later_imports(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    connection = await connect(client, headers, "ofx-file")
    await imported(client, headers, connection, "checking_ofx1_sgml.ofx")

    deleted = await client.delete(f"{CONNECTIONS_URL}/{connection}", headers=headers)
    again = await upload(client, headers, connection, "savings.qfx")

    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    [listed] = (await client.get(CONNECTIONS_URL, headers=headers)).json()["items"]
    assert listed["status"] == "disconnected"
    assert len(await accounts_of(client, headers)) == 1
    assert await finance_row_counts(container) == (1, 4, 1)
    assert_problem(again, status=409, code="connection_disconnected")
    assert await finance_row_counts(container) == (1, 4, 1)  # the QFX added nothing
    [event] = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "ProviderDisconnected"
    )
    assert event.payload["purged"] is False


async def test_disconnect_with_purge_removes_its_accounts_and_transactions(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    purged = await connect(client, headers, "ofx-file")
    kept = await connect(client, headers, "ofx-file")
    await imported(client, headers, purged, "checking_ofx1_sgml.ofx")
    await imported(client, headers, kept, "savings.qfx")

    deleted = await client.delete(
        f"{CONNECTIONS_URL}/{purged}", params={"purge": "true"}, headers=headers
    )

    assert deleted.status_code == 204, deleted.text
    [account] = await accounts_of(client, headers)
    assert account["connection_id"] == kept
    rows = await fetch(container, AccountModel)
    assert [str(r.connection_id) for r in rows] == [kept]
    assert await count(container, TransactionModel) == 4  # only the savings account's
    [event] = await fetch(
        container, OutboxEventModel, OutboxEventModel.event_type == "ProviderDisconnected"
    )
    assert event.payload["purged"] is True
    [audit] = await fetch(
        container, AuditLogModel, AuditLogModel.action == "connection.disconnected"
    )
    assert audit.details["accounts_deleted"] == 1


async def test_a_manual_connection_takes_no_files(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    headers = await sign_up(client, "ada@example.com")
    manual = await connect(client, headers, "manual")

    response = await upload(client, headers, manual, "checking_ofx1_sgml.ofx")

    assert_problem(response, status=422, code="imports_not_supported")
    assert await finance_row_counts(container) == (0, 0, 0)


async def test_unknown_connection_ids_are_404(client: httpx.AsyncClient) -> None:
    headers = await sign_up(client, "ada@example.com")
    missing = "0190a000-0000-7000-8000-000000000000"

    assert_problem(
        await client.delete(f"{CONNECTIONS_URL}/{missing}", headers=headers),
        status=404,
        code="not_found",
    )
    assert_problem(
        await upload(client, headers, missing, "savings.qfx"), status=404, code="not_found"
    )
    malformed = await client.delete(f"{CONNECTIONS_URL}/not-a-uuid", headers=headers)
    assert_problem(malformed, status=422, code="validation_error")
