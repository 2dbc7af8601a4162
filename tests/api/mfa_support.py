"""Helpers of the second-factor API tests: codes from the enrolled secret, a user with TOTP."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp

from tests.api.support import PASSWORD, SESSIONS_URL, bearer, create_user, tokens_for

MFA_URL = "/api/v1/users/me/mfa"
TOTP_URL = f"{MFA_URL}/totp"
CONFIRM_URL = f"{MFA_URL}/totp/confirm"
DISABLE_URL = f"{MFA_URL}/totp/disable"
RECOVERY_CODES_URL = f"{MFA_URL}/recovery-codes"
MFA_LOGIN_URL = f"{SESSIONS_URL}/mfa"


async def away_from_a_step_boundary() -> None:
    """Codes are made here and checked by the app a moment later: never across a boundary."""
    into_step = time.time() % 30
    if into_step > 27:
        await asyncio.sleep(30 - into_step + 0.05)


def code_at(secret: str, steps_from_now: int) -> str:
    """The code of the time step ``steps_from_now`` away (the app accepts -1, 0 and +1)."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_from_now)


@dataclass
class MfaUser:
    email: str
    secret: str
    recovery_codes: list[str]
    access_token: str


async def enrol(client: httpx.AsyncClient, access_token: str) -> dict[str, Any]:
    response = await client.post(TOTP_URL, headers=bearer(access_token))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def user_with_totp(
    client: httpx.AsyncClient, container: object, email: str, password: str = PASSWORD
) -> MfaUser:
    """A user whose authenticator is confirmed (with the code of the step before now)."""
    await create_user(container, email, password)  # type: ignore[arg-type]
    tokens = await tokens_for(client, email, password)
    secret = (await enrol(client, tokens["access_token"]))["secret"]
    await away_from_a_step_boundary()
    confirmed = await client.post(
        CONFIRM_URL, json={"code": code_at(secret, -1)}, headers=bearer(tokens["access_token"])
    )
    assert confirmed.status_code == 200, confirmed.text
    return MfaUser(email, secret, confirmed.json()["recovery_codes"], tokens["access_token"])


async def ticket_for(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post(SESSIONS_URL, json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True
    assert "access_token" not in body
    assert "refresh_token" not in body
    ticket: str = body["mfa_ticket"]
    return ticket
