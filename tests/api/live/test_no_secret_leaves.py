"""No secret of a live connection leaves Dashtam, on any path, the failing ones included.

Every path a user, the worker and an operator can take runs with logs captured at DEBUG;
then the setup tokens, the claim paths and the access URLs' credentials are looked for in
every response, log line, audit row, outbox event and webhook delivery (and, on SQLite, in
the database file's bytes, where the access may only be stored sealed).
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select, text

from dashtam.infrastructure.persistence.models import (
    AuditLogModel,
    OutboxEventModel,
    WebhookDeliveryModel,
)
from tests.api.finance_support import CONNECTIONS_URL, sign_up
from tests.api.live.support import live_settings, sync
from tests.api.live.test_worker import _scheduler
from tests.api.support import FastContainer
from tests.simplefin_bridge import SimplefinBridge
from tests.webhook_receiver import Receiver


class _Journey:
    def __init__(self, client: httpx.AsyncClient, bridge: SimplefinBridge) -> None:
        self.client = client
        self.bridge = bridge
        self.tokens: list[str] = []
        self.seen: list[str] = []

    def token(self) -> str:
        token = self.bridge.issue_setup_token()
        self.tokens.append(token)
        return token

    async def post(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        response = await self.client.post(url, json=body, headers=headers)
        self.seen.append(f"{response.status_code} {response.headers} {response.text}")
        return response

    async def sync(self, headers: dict[str, str], connection_id: str) -> httpx.Response:
        response = await sync(self.client, headers, connection_id)
        self.seen.append(f"{response.status_code} {response.headers} {response.text}")
        return response


@pytest.fixture
def live_container(database_url: str) -> FastContainer:
    """The live settings, and webhooks allowed to the receiver on loopback."""
    return FastContainer(live_settings(database_url, DASHTAM_WEBHOOKS_ALLOW_PRIVATE=True))


async def _walk(journey: _Journey, container: FastContainer, receiver: Receiver) -> None:
    bridge = journey.bridge
    headers = await sign_up(journey.client, "ana@example.com")
    hook = await journey.post(
        "/api/v1/webhooks",
        {
            "url": receiver.url,
            "events": ["transactions.updated", "sync.failed", "connection.needs_attention"],
        },
        headers,
    )
    receiver.secret = hook.json()["secret"]
    token = journey.token()
    connected = await journey.post(
        CONNECTIONS_URL, {"provider": "simplefin", "setup_token": token}, headers
    )
    connection_id = connected.json()["id"]
    await journey.post(CONNECTIONS_URL, {"provider": "simplefin", "setup_token": token}, headers)
    slow = journey.token()
    bridge.behaviour.delay_seconds = 3
    await journey.post(CONNECTIONS_URL, {"provider": "simplefin", "setup_token": slow}, headers)
    bridge.behaviour.delay_seconds = 0
    await journey.sync(headers, connection_id)
    for name, value, normal in (
        ("errors", ["Reauthenticate"], []),
        ("status", 500, None),
        ("status", 402, None),
        ("malformed", True, False),
        ("delay_seconds", 3.0, 0.0),
    ):
        setattr(bridge.behaviour, name, value)
        await journey.sync(headers, connection_id)
        setattr(bridge.behaviour, name, normal)
    await _scheduler(container, "w-secret").run_once()
    for username in list(bridge._credentials):
        bridge.revoke(username)
    await journey.sync(headers, connection_id)
    listed = await journey.client.get(CONNECTIONS_URL, headers=headers)
    journey.seen.append(listed.text)
    gone = await journey.client.delete(f"{CONNECTIONS_URL}/{connection_id}", headers=headers)
    journey.seen.append(gone.text)
    while await container.webhooks.sender.deliver_due(limit=100):
        pass


async def _stored_texts(container: FastContainer) -> list[str]:
    texts: list[str] = []
    async with container.database.get_session() as session:
        for model in (AuditLogModel, OutboxEventModel, WebhookDeliveryModel):
            for row in (await session.scalars(select(model))).all():
                texts.append(repr({c.name: getattr(row, c.key) for c in model.__table__.columns}))
        connections = await session.execute(text("SELECT * FROM provider_connections"))
        texts += [repr(tuple(row)) for row in connections.all()]
    return texts


@pytest.mark.usefixtures("bridge")
async def test_no_secret_leaves_on_any_path(
    live_client: httpx.AsyncClient,
    live_container: FastContainer,
    bridge: SimplefinBridge,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
    database_url: str,
) -> None:
    journey = _Journey(live_client, bridge)
    credentials_seen: set[str] = set()
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as captured:
        original_claim = bridge._claim

        def claim_and_remember(token: str) -> str | None:
            access = original_claim(token)
            if access is not None:
                userinfo = access.split("//", 1)[1].split("@", 1)[0]
                credentials_seen.update({userinfo, *userinfo.split(":")})
            return access

        bridge._claim = claim_and_remember  # type: ignore[method-assign]
        await _walk(journey, live_container, receiver)
    secrets = set(credentials_seen)
    for token in journey.tokens:
        secrets |= {token, base64.b64decode(token).decode().split("/claim/")[1]}
    # user:password, user and password of each claim the bridge answered (the slow one too).
    assert len(credentials_seen) == 6
    # The live events reached the user's endpoint, signed.
    delivered = {item.json["type"] for item in receiver.received}
    assert {"transactions.updated", "sync.failed", "connection.needs_attention"} <= delivered
    assert all(item.signature_valid for item in receiver.received)
    seen = list(journey.seen)
    seen += [f"{item.headers} {item.body.decode()}" for item in receiver.received]
    seen += [repr(entry) for entry in captured]
    seen += [record.getMessage() + repr(record.args) for record in caplog.records]
    seen += await _stored_texts(live_container)
    assert len(captured) > 20  # the paths log: the test reads what they wrote
    for secret in secrets:
        leaks = [text for text in seen if secret in text]
        assert not leaks, (secret, leaks[:1])
    if database_url.startswith("sqlite"):
        await live_container.database.close()
        path = Path(database_url.split("///", 1)[1])
        stored = b"".join(
            candidate.read_bytes()
            for candidate in (path, path.with_name(path.name + "-wal"))
            if candidate.exists()
        )
        for secret in secrets:
            assert secret.encode() not in stored, secret
