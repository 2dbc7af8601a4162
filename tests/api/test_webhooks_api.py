"""The webhooks API end to end: a real app, a real database (both), a receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from structlog.testing import capture_logs

from dashtam.core.config import Settings
from dashtam.domain.providers.events import ConnectionNeedsAttention
from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    OutboxEventModel,
    WebhookDeliveryModel,
    WebhookEndpointModel,
)
from dashtam.infrastructure.webhooks.signing import verify
from tests.api.finance_support import connect, sign_up, upload
from tests.api.support import assert_problem, fetch, running
from tests.integration.webhooks.support import commit_events, webhook_container
from tests.webhook_receiver import Receiver

URL = "/api/v1/webhooks"


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "events": ["transactions.updated", "connection.needs_attention"], **extra}
    response = await client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_an_import_is_posted_signed_and_the_secret_is_shown_once(
    settings: Settings, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    container = webhook_container(settings)
    with caplog.at_level(logging.DEBUG), capture_logs() as logs:
        async with running(container) as (_app, client):
            headers = await sign_up(client, "ada@example.com")
            created = await _create(client, headers, receiver.url, description="my receiver")
            secret = created["secret"]
            receiver.secret = secret
            listed = (await client.get(URL, headers=headers)).json()
            one = (await client.get(f"{URL}/{created['id']}", headers=headers)).json()
            connection_id = await connect(client, headers, "ofx-file")
            imported = await upload(client, headers, connection_id, "savings.qfx")
            assert imported.status_code == 200, imported.text
            assert await container.webhooks.sender.deliver_due() == 1
            log = (await client.get(f"{URL}/{created['id']}/deliveries", headers=headers)).json()
            stored = [
                *(await fetch(container, WebhookEndpointModel)),
                *(await fetch(container, AuditLogModel)),
                *(await fetch(container, OutboxEventModel)),
                *(await fetch(container, WebhookDeliveryModel)),
            ]

    assert secret.startswith("whsec_")
    assert len(secret) >= len("whsec_") + 43  # 32 random bytes
    assert "secret" not in one
    assert [item.get("secret") for item in listed["items"]] == [None]
    assert one == {k: v for k, v in created.items() if k != "secret"}
    assert (one["status"], one["description"]) == ("active", "my receiver")
    [got] = receiver.received
    assert got.signature_valid
    assert verify(secret, got.headers["dashtam-signature"], got.body)
    assert got.json["type"] == "transactions.updated"
    assert got.json["data"]["connection_id"] == connection_id
    assert got.json["data"]["reason"] == "import"
    assert got.json["data"]["transactions_new"] == imported.json()["transactions_new"]
    [delivery] = log["items"]
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "delivered",
        1,
        200,
    )
    assert delivery["event_id"] == got.json["id"]
    # Shown once: nowhere in the database (sealed), the audit trail, events or the logs.
    seen = "\n".join([repr(logs), caplog.text, *(repr(vars(row)) for row in stored)])
    assert secret not in seen
    assert secret.removeprefix("whsec_") not in seen
    assert "tag=1" not in "\n".join(repr(vars(r)) for r in stored if isinstance(r, AuditLogModel))


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"url": "https://example.com/h", "events": ["transactions.deleted"]},
            "unknown_event_type",
        ),
        ({"url": "ftp://example.com/h", "events": ["sync.failed"]}, "unsupported_url_scheme"),
        ({"url": "https://u:p@example.com/h", "events": ["sync.failed"]}, "url_has_credentials"),
        ({"url": "https://e.com/" + "a" * 2100, "events": ["sync.failed"]}, "url_too_long"),
        ({"url": "http://127.0.0.1:9/h", "events": ["sync.failed"]}, "webhook_url_not_allowed"),
        ({"url": "http://[::1]/h", "events": ["sync.failed"]}, "webhook_url_not_allowed"),
        ({"url": "http://169.254.169.254/", "events": ["sync.failed"]}, "webhook_url_not_allowed"),
        ({"url": "http://localhost/h", "events": ["sync.failed"]}, "webhook_url_not_allowed"),
    ],
)
async def test_bad_endpoints_are_problems_and_audited(
    client: httpx.AsyncClient, container: Any, body: dict[str, Any], code: str
) -> None:
    # The default settings: private destinations are refused.
    headers = await sign_up(client, "ada@example.com")
    response = await client.post(URL, json=body, headers=headers)
    problem = assert_problem(response, status=422, code=code)
    assert "u:p" not in problem["detail"]
    assert (await client.get(URL, headers=headers)).json() == {"items": []}
    [failed] = await fetch(container, AuditLogModel, AuditLogModel.action == "webhook.created")
    assert (failed.outcome, failed.reason) == ("failed", code)
    assert "/h" not in repr(failed.details)


async def test_a_host_that_cannot_be_resolved_as_a_name_is_a_problem_not_a_500(
    client: httpx.AsyncClient, container: Any
) -> None:
    headers = await sign_up(client, "ada@example.com")
    for url in ("https://\ud800.example.com/h", "https://" + "a" * 64 + ".example.com/h"):
        # json.dumps writes the lone surrogate as the escape \ud800: valid JSON, invalid text.
        raw = json.dumps({"url": url, "events": ["sync.failed"]}).encode()
        response = await client.post(
            URL, content=raw, headers={**headers, "content-type": "application/json"}
        )
        assert_problem(response, status=422, code="invalid_url")
    assert (await client.get(URL, headers=headers)).json() == {"items": []}


async def test_someone_elses_endpoint_is_not_found(settings: Settings, receiver: Receiver) -> None:
    async with running(webhook_container(settings)) as (_app, client):
        ada = await sign_up(client, "ada@example.com")
        bob = await sign_up(client, "bob@example.com")
        endpoint = (await _create(client, ada, receiver.url))["id"]
        answers = [
            await client.get(f"{URL}/{endpoint}", headers=bob),
            await client.patch(f"{URL}/{endpoint}", json={"description": "x"}, headers=bob),
            await client.get(f"{URL}/{endpoint}/deliveries", headers=bob),
            await client.post(f"{URL}/{endpoint}/test", headers=bob),
            await client.post(f"{URL}/{endpoint}/secret", headers=bob),
            await client.delete(f"{URL}/{endpoint}", headers=bob),
        ]
        still = await client.get(f"{URL}/{endpoint}", headers=ada)
    for answer in answers:
        assert_problem(answer, status=404, code="not_found")
    assert still.status_code == 200


async def test_patch_changes_fields_and_re_enabling_clears_the_failures(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    async with running(container) as (_app, client):
        headers = await sign_up(client, "ada@example.com")
        endpoint = (await _create(client, headers, receiver.url))["id"]
        async with container.database.transaction() as session:
            await session.execute(
                update(WebhookEndpointModel).values(
                    status="disabled",
                    disabled_reason="20 deliveries failed",
                    consecutive_failures=20,
                )
            )
        disabled = (await client.get(f"{URL}/{endpoint}", headers=headers)).json()
        patched = await client.patch(
            f"{URL}/{endpoint}",
            json={"enabled": True, "events": ["sync.failed", "sync.failed"], "description": "n"},
            headers=headers,
        )
        refused = await client.patch(
            f"{URL}/{endpoint}", json={"events": ["nope"]}, headers=headers
        )
        deleted = await client.delete(f"{URL}/{endpoint}", headers=headers)
        gone = await client.get(f"{URL}/{endpoint}", headers=headers)
        audit = await fetch(container, AuditLogModel, AuditLogModel.action.like("webhook.%"))
    assert (disabled["status"], disabled["consecutive_failures"]) == ("disabled", 20)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["status"], body["disabled_reason"], body["consecutive_failures"]) == (
        "active",
        None,
        0,
    )
    assert (body["events"], body["description"]) == (["sync.failed"], "n")
    assert_problem(refused, status=422, code="unknown_event_type")
    assert deleted.status_code == 204
    assert gone.status_code == 404
    assert [(a.action, a.outcome) for a in audit] == [
        ("webhook.created", "succeeded"),
        ("webhook.updated", "succeeded"),
        ("webhook.updated", "failed"),
        ("webhook.deleted", "succeeded"),
    ]


async def test_a_user_has_at_most_ten_endpoints(settings: Settings, receiver: Receiver) -> None:
    async with running(webhook_container(settings)) as (_app, client):
        headers = await sign_up(client, "ada@example.com")
        for _ in range(10):
            await _create(client, headers, receiver.url)
        over = await client.post(
            URL, json={"url": receiver.url, "events": ["sync.failed"]}, headers=headers
        )
    assert_problem(over, status=409, code="webhook_limit_reached")


async def test_ping_rotation_and_the_paged_delivery_log(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings)
    async with running(container) as (_app, client):
        headers = await sign_up(client, "ada@example.com")
        created = await _create(client, headers, receiver.url)
        endpoint = created["id"]
        rotated = await client.post(f"{URL}/{endpoint}/secret", headers=headers)
        receiver.secret = rotated.json()["secret"]
        pings = [await client.post(f"{URL}/{endpoint}/test", headers=headers) for _ in range(3)]
        assert await container.webhooks.sender.deliver_due() == 3
        first = (await client.get(f"{URL}/{endpoint}/deliveries?limit=2", headers=headers)).json()
        rest = await client.get(
            f"{URL}/{endpoint}/deliveries",
            params={"limit": "2", "cursor": first["next_cursor"]},
            headers=headers,
        )
        bad = await client.get(f"{URL}/{endpoint}/deliveries?cursor=zz", headers=headers)
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert [p.status_code for p in pings] == [202, 202, 202]
    assert all(r.signature_valid for r in receiver.received)  # signed with the new secret
    assert {r.json["type"] for r in receiver.received} == {"webhook.test"}
    assert len(first["items"]) == 2
    assert first["next_cursor"] is not None
    page = rest.json()
    assert len(page["items"]) == 1
    assert page["next_cursor"] is None
    newest_first = [p.json()["event_id"] for p in reversed(pings)]
    assert [d["event_id"] for d in first["items"] + page["items"]] == newest_first
    assert_problem(bad, status=422, code="validation_error")


async def test_the_api_process_sends_in_the_background(
    settings: Settings, receiver: Receiver
) -> None:
    container = webhook_container(settings, webhook_interval_seconds=0.05)
    async with running(container) as (_app, client):
        headers = await sign_up(client, "ada@example.com")
        created = await _create(client, headers, receiver.url)
        receiver.secret = created["secret"]
        [user] = await fetch(container, WebhookEndpointModel)
        attention = ConnectionNeedsAttention(
            user_id=user.user_id, connection_id=user.id, message="Reauthenticate at the bridge"
        )
        await commit_events(container, attention)
        for _ in range(200):  # polled, never timed: the loop posts it on its own
            if receiver.received:
                break
            await asyncio.sleep(0.02)
    [got] = receiver.received
    assert got.signature_valid
    assert got.json["type"] == "connection.needs_attention"
    assert got.json["data"]["message"] == "Reauthenticate at the bridge"
