"""The second-factor routes on text no client should send: never a 500, never stored."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api.mfa_support import (
    CONFIRM_URL,
    DISABLE_URL,
    MFA_LOGIN_URL,
    RECOVERY_CODES_URL,
    TOTP_URL,
    ticket_for,
    user_with_totp,
)
from tests.api.support import PASSWORD, SESSIONS_URL, FastContainer, bearer

# Valid JSON, not valid Unicode: a lone surrogate, a NUL, a long run of digits, full-width.
HOSTILE = ["\ud800", "12\x0034", "1" * 16, "\uff11\uff12\uff13\uff14\uff15\uff16", "ü" * 16]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_codes_and_tickets_are_refused_cleanly(
    client: httpx.AsyncClient, container: FastContainer, text: str
) -> None:
    user = await user_with_totp(client, container, "ada@example.com")
    headers = bearer(user.access_token)
    ticket = await ticket_for(client, user.email)

    async def post(
        url: str, body: dict[str, object], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        # json.dumps escapes a lone surrogate as \ud800 (valid JSON); httpx would refuse it.
        raw = json.dumps(body).encode()
        sent = {"content-type": "application/json", **(headers or {})}
        return await client.post(url, content=raw, headers=sent)

    answers = [
        await post(MFA_LOGIN_URL, {"mfa_ticket": ticket, "code": text}),
        await post(MFA_LOGIN_URL, {"mfa_ticket": ticket, "recovery_code": text}),
        await post(MFA_LOGIN_URL, {"mfa_ticket": text, "code": "123456"}),
        await post(CONFIRM_URL, {"code": text}, headers),
        await post(RECOVERY_CODES_URL, {"code": text}, headers),
        await post(DISABLE_URL, {"password": PASSWORD, "code": text}, headers),
        await post(DISABLE_URL, {"password": PASSWORD, "recovery_code": text}, headers),
        await post(DISABLE_URL, {"password": text, "code": "123456"}, headers),
        await post(TOTP_URL, {"password": text}, headers),
        await post(SESSIONS_URL, {"email": user.email, "password": PASSWORD, "remember_me": text}),
    ]
    for response in answers:
        assert response.status_code in (401, 409, 422, 429), (response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
