"""Identity inputs at the edge: look-alike emails, NUL bytes, surrogates, absurd token claims."""

# ruff: noqa: RUF001 - look-alike (fullwidth) characters are what these tests are about

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from dashtam.core.ids import new_id
from dashtam.infrastructure.persistence.models import AuditLogModel, AuthSessionModel
from tests.api.support import (
    ME_URL,
    PASSWORD,
    SESSIONS_URL,
    TOKENS_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    fetch,
    log_in,
    tokens_for,
)

WRONG = "not the right passphrase"


async def post_json(client: httpx.AsyncClient, url: str, body: dict[str, str]) -> httpx.Response:
    """``body`` as JSON with every non-ASCII character escaped: lone surrogates travel too."""
    return await client.post(
        url, content=json.dumps(body), headers={"content-type": "application/json"}
    )


async def failed_log_ins(container: FastContainer) -> list[AuditLogModel]:
    return list(await fetch(container, AuditLogModel, AuditLogModel.action == "user.login_failed"))


async def test_look_alike_spellings_cannot_sidestep_the_account_lockout(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    spellings = [
        "ada@ｅxample.com",
        "ＡＤＡ@example.com",
        "ada＠example.com",
        "Ada@EXAMPLE.com",
        "ada@example。com",
    ]
    for spelling in spellings:
        assert_unauthorized(await log_in(client, spelling, WRONG), code="invalid_credentials")

    for spelling in ["ada@example.com", "ada@ｅxample.com", "ａｄａ@example.com"]:
        assert_problem(await log_in(client, spelling, PASSWORD), status=429, code="rate_limited")
    assert await fetch(container, AuthSessionModel) == []
    recorded = [audit.details for audit in await failed_log_ins(container)]
    assert all(details == {"email": "ada@example.com"} for details in recorded), recorded


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada\x00@example.com", PASSWORD),
        ("ada@example.com\x00", PASSWORD),
        ("\x00", PASSWORD),
        ("ada@example.com", "a long\x00passphrase"),
    ],
    ids=["nul-local", "nul-trailing", "only-nul", "nul-password"],
)
async def test_nul_bytes_are_refused_and_the_attempt_is_audited(
    client: httpx.AsyncClient, container: FastContainer, email: str, password: str
) -> None:
    await create_user(container, "ada@example.com")

    response = await post_json(client, SESSIONS_URL, {"email": email, "password": password})

    assert_unauthorized(response, code="invalid_credentials")
    [audit] = await failed_log_ins(container)  # not lost, on PostgreSQL as on SQLite
    assert audit.outcome == "failed"
    stored = json.dumps(audit.details)
    assert "\\u0000" not in stored


@pytest.mark.parametrize(
    "body",
    [
        {"email": "\ud800@example.com", "password": PASSWORD},
        {"email": "ada@example.com", "password": "a long passphrase\udfff"},
    ],
    ids=["email", "password"],
)
async def test_lone_surrogates_are_refused_at_the_edge(
    client: httpx.AsyncClient, container: FastContainer, body: dict[str, str]
) -> None:
    # Not text at all (no UTF-8 encoding exists): refused before any handler, never a 500.
    response = await post_json(client, SESSIONS_URL, body)
    assert_problem(response, status=422, code="validation_error")


async def test_a_secret_typed_as_the_email_never_enters_the_trail(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    secret = "Tr0ub4dor&3 horse staple"

    assert_unauthorized(await log_in(client, secret, WRONG), code="invalid_credentials")
    assert_unauthorized(await log_in(client, secret, WRONG), code="invalid_credentials")

    first, second = await failed_log_ins(container)
    assert first.details["email_valid"] is False
    assert secret not in json.dumps(first.details)
    assert secret.lower() not in json.dumps(first.details).lower()
    # A keyed digest: repeats of one typed value can still be matched by an investigator.
    assert first.details["email_digest"] == second.details["email_digest"]
    assert len(first.details["email_digest"]) == 64
    other = await log_in(client, secret + "!", WRONG)
    assert_unauthorized(other, code="invalid_credentials")
    third = (await failed_log_ins(container))[-1]
    assert third.details["email_digest"] != first.details["email_digest"]


def _signed(container: FastContainer, **overrides: Any) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": "dashtam",
        "sub": str(new_id()),
        "sid": str(new_id()),
        "jti": str(new_id()),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=15)).timestamp()),
        "typ": "access",
    }
    claims.update(overrides)
    secret = container.settings.secret_key.get_secret_value()
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 10**17},
        {"exp": -(10**17)},
        {"iat": -(10**17)},
        {"exp": 1e17},
        {"exp": "9999999999"},
        {"iat": "0"},
        {"exp": None},
    ],
    ids=[
        "exp-huge",
        "exp-negative",
        "iat-negative",
        "exp-float",
        "exp-string",
        "iat-string",
        "exp-null",
    ],
)
async def test_a_validly_signed_token_with_absurd_claims_is_401(
    client: httpx.AsyncClient, container: FastContainer, overrides: dict[str, Any]
) -> None:
    response = await client.get(ME_URL, headers=bearer(_signed(container, **overrides)))
    assert_unauthorized(response, code="invalid_token")


async def test_a_refresh_token_that_cannot_be_encoded_is_refused(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    pair = await tokens_for(client, "ada@example.com")

    response = await post_json(client, TOKENS_URL, {"refresh_token": "abc\ud800def"})

    assert_problem(response, status=422, code="validation_error")
    # The real one still works: the refused attempt rotated nothing.
    again = await client.post(TOKENS_URL, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200, again.text


async def test_a_log_in_with_a_control_character_in_the_email_is_not_a_validation_error(
    client: httpx.AsyncClient,
) -> None:
    # Refused by the handler (so audited and counted), not by the schema before it.
    response = await client.post(SESSIONS_URL, json={"email": "a\tb@example.com", "password": "x"})
    assert_unauthorized(response, code="invalid_credentials")
