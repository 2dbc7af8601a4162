"""``dashtam credentials rotate``: stored accesses move to the new key, all or nothing."""

from __future__ import annotations

import asyncio
import base64

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from dashtam.core.config import get_settings
from dashtam.core.result import Success
from dashtam.infrastructure.persistence.models import WebhookEndpointModel
from dashtam.presentation.cli.main import app
from tests.api.finance_support import sign_up
from tests.api.live.support import connect_bridge, live_settings, sync
from tests.api.mfa_support import MFA_LOGIN_URL, code_at, ticket_for, user_with_totp
from tests.api.support import PASSWORD, FastContainer, bearer, running, tokens_for
from tests.simplefin_bridge import SimplefinBridge

NEW_KEY = bytes(range(64, 96))
OLD_KEY = bytes(range(160, 192))


def _key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def _rotate(database_url: str, keys: str) -> Result:
    get_settings.cache_clear()
    env = {
        "DATABASE_URL": database_url,
        "DASHTAM_ENV": "test",
        "DASHTAM_CREDENTIALS_KEY": keys,
        "LOG_LEVEL": "WARNING",
    }
    try:
        return CliRunner().invoke(app, ["credentials", "rotate"], env=env)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def old_key_container(database_url: str) -> FastContainer:
    return FastContainer(live_settings(database_url, DASHTAM_CREDENTIALS_KEY=_key(OLD_KEY)))


async def test_rotation_moves_every_access_to_the_new_key(
    old_key_container: FastContainer, bridge: SimplefinBridge, database_url: str
) -> None:
    async with running(old_key_container) as (_, client):
        headers = await sign_up(client, "ana@example.com")
        connection = await connect_bridge(client, headers, bridge)
        hook = await client.post(
            "/api/v1/webhooks",
            json={"url": "https://93.184.216.34/hooks", "events": ["transactions.updated"]},
            headers=headers,
        )
        assert hook.status_code == 201, hook.text
    connection_id = str(connection["id"])

    rotated = await asyncio.to_thread(_rotate, database_url, f"{_key(NEW_KEY)},{_key(OLD_KEY)}")
    assert rotated.exit_code == 0, rotated.output
    assert "credentials: 2 of 2 re-encrypted" in rotated.stdout  # the access and the secret
    again = await asyncio.to_thread(_rotate, database_url, f"{_key(NEW_KEY)},{_key(OLD_KEY)}")
    assert "credentials: 0 of 2 re-encrypted" in again.stdout

    # The old key can go now: the access opens with the new one alone.
    new_only = FastContainer(live_settings(database_url, DASHTAM_CREDENTIALS_KEY=_key(NEW_KEY)))
    async with running(new_only) as (_, client):
        tokens = await tokens_for(client, "ana@example.com", PASSWORD)
        synced = await sync(client, bearer(tokens["access_token"]), connection_id)
    assert synced.status_code == 200, synced.text
    async with new_only.database.get_session() as session:
        endpoint = (await session.scalars(select(WebhookEndpointModel))).one()
    opened = new_only.credential_cipher.open(endpoint.secret, context=f"webhook:{endpoint.id}")
    assert isinstance(opened, Success)
    assert opened.value.startswith("whsec_")


async def test_an_access_no_key_opens_is_reported_not_lost(
    old_key_container: FastContainer, bridge: SimplefinBridge, database_url: str
) -> None:
    async with running(old_key_container) as (_, client):
        headers = await sign_up(client, "ana@example.com")
        await connect_bridge(client, headers, bridge)
    lost = await asyncio.to_thread(_rotate, database_url, _key(NEW_KEY))
    assert lost.exit_code == 1
    assert "1 credential(s) open with none of the configured keys" in lost.output
    # Still there, still under the old key: putting the old key back recovers it.
    recovered = await asyncio.to_thread(_rotate, database_url, f"{_key(NEW_KEY)},{_key(OLD_KEY)}")
    assert "credentials: 1 of 1 re-encrypted" in recovered.stdout


async def test_rotation_reseals_authenticator_secrets_too(
    old_key_container: FastContainer, database_url: str
) -> None:
    async with running(old_key_container) as (_, client):
        user = await user_with_totp(client, old_key_container, "ada@example.com")

    rotated = await asyncio.to_thread(_rotate, database_url, f"{_key(NEW_KEY)},{_key(OLD_KEY)}")
    assert rotated.exit_code == 0, rotated.output
    assert "credentials: 1 of 1 re-encrypted" in rotated.stdout

    new_only = FastContainer(live_settings(database_url, DASHTAM_CREDENTIALS_KEY=_key(NEW_KEY)))
    async with running(new_only) as (_, client):
        ticket = await ticket_for(client, user.email)
        done = await client.post(
            MFA_LOGIN_URL, json={"mfa_ticket": ticket, "code": code_at(user.secret, 0)}
        )
    assert done.status_code == 201, done.text
