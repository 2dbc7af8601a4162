"""Every authenticated endpoint refuses a bad access token with 401 and a Bearer challenge."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.api.support import (
    ADMIN_USERS_URL,
    ME_URL,
    SESSIONS_URL,
    FastContainer,
    assert_unauthorized,
    create_user,
    tokens_for,
)


@dataclass(frozen=True)
class Caller:
    """A real admin with a live session, and the ids inside its access token."""

    access_token: str
    user_id: UUID
    session_id: UUID
    other_user_id: UUID
    secret: str


def endpoints(caller: Caller) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every route that needs a token, with a body that would otherwise be valid."""
    other = caller.other_user_id
    return [
        ("GET", ME_URL, None),
        ("PATCH", f"{ME_URL}/password", {"current_password": "x", "new_password": "y"}),
        ("DELETE", ME_URL, {"password": "x"}),
        ("GET", SESSIONS_URL, None),
        ("DELETE", f"{SESSIONS_URL}/current", None),
        ("DELETE", f"{SESSIONS_URL}/{caller.session_id}", None),
        ("GET", ADMIN_USERS_URL, None),
        ("PATCH", f"{ADMIN_USERS_URL}/{other}", {"role": "admin"}),
        ("DELETE", f"{ADMIN_USERS_URL}/{other}", None),
    ]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(caller: Caller) -> dict[str, Any]:
    now = int(utcnow().timestamp())
    return {
        "iss": "dashtam",
        "sub": str(caller.user_id),
        "sid": str(caller.session_id),
        "jti": str(new_id()),
        "iat": now,
        "exp": now + 900,
        "typ": "access",
    }


def _expired(caller: Caller) -> str:
    service = JwtTokenService(secret_key=caller.secret, access_token_ttl=timedelta(seconds=-60))
    return service.issue_access_token(
        user_id=caller.user_id, session_id=caller.session_id, now=utcnow()
    )


def _tampered_signature(caller: Caller) -> str:
    head, payload, signature = caller.access_token.split(".")
    # A middle character: the last one of a base64url signature may carry only padding bits.
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def _tampered_payload(caller: Caller) -> str:
    head, _, signature = caller.access_token.split(".")
    forged = _claims(caller) | {"sub": str(caller.other_user_id)}
    return f"{head}.{_b64(forged)}.{signature}"


def _other_secret(caller: Caller) -> str:
    service = JwtTokenService(secret_key="another-secret-that-is-long-enough-0123456789")
    return service.issue_access_token(
        user_id=caller.user_id, session_id=caller.session_id, now=utcnow()
    )


def _alg_none(caller: Caller) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(caller))}."


def _without_jti(caller: Caller) -> str:
    claims = _claims(caller)
    del claims["jti"]
    return jwt.encode(claims, caller.secret, algorithm="HS256")


def _not_an_access_token(caller: Caller) -> str:
    return jwt.encode(_claims(caller) | {"typ": "refresh"}, caller.secret, algorithm="HS256")


def _garbage(_caller: Caller) -> str:
    return "not.a.jwt"


TOKEN_KINDS: dict[str, tuple[Callable[[Caller], str], str]] = {
    "expired": (_expired, "token_expired"),
    "tampered-signature": (_tampered_signature, "invalid_token"),
    "tampered-payload": (_tampered_payload, "invalid_token"),
    "other-secret": (_other_secret, "invalid_token"),
    "alg-none": (_alg_none, "invalid_token"),
    "missing-jti": (_without_jti, "invalid_token"),
    "not-an-access-token": (_not_an_access_token, "invalid_token"),
    "garbage": (_garbage, "invalid_token"),
}

MALFORMED_HEADERS = {
    "missing": {},
    "empty-bearer": {"authorization": "Bearer "},
    "basic-scheme": {"authorization": "Basic YWRhOnBhc3N3b3Jk"},
    "no-scheme": {"authorization": "just-a-token"},
}


@pytest.fixture
async def caller(client: httpx.AsyncClient, container: FastContainer) -> Caller:
    user_id = await create_user(container, "root@example.com", role=Role.ADMIN)
    other_user_id = await create_user(container, "ada@example.com")
    tokens = await tokens_for(client, "root@example.com")
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    # The genuine token works everywhere: each refusal below is about the token alone.
    assert (await client.get(ME_URL, headers=_auth(tokens["access_token"]))).status_code == 200
    assert (await client.get(ADMIN_USERS_URL, headers=_auth(tokens["access_token"]))).is_success
    return Caller(
        access_token=tokens["access_token"],
        user_id=user_id,
        session_id=UUID(claims["sid"]),
        other_user_id=other_user_id,
        secret=container.settings.secret_key.get_secret_value(),
    )


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _assert_all_refused(
    client: httpx.AsyncClient, caller: Caller, headers: dict[str, str], code: str, kind: str
) -> None:
    for method, url, body in endpoints(caller):
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 401, (kind, method, url, response.text)
        assert_unauthorized(response, code=code)
        if code != "missing_token":
            assert 'error="invalid_token"' in response.headers["www-authenticate"], kind


# One test per family, each looping over its cases: every case x every endpoint, cheaply.
async def test_a_missing_or_malformed_authorization_header_is_401(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    for kind, headers in MALFORMED_HEADERS.items():
        await _assert_all_refused(client, caller, headers, "missing_token", kind)


async def test_a_bad_token_is_401_on_every_endpoint(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    for kind, (make, code) in TOKEN_KINDS.items():
        await _assert_all_refused(client, caller, _auth(make(caller)), code, kind)

    # Nothing was changed by the refused calls: the genuine token still works.
    assert (await client.get(ME_URL, headers=_auth(caller.access_token))).status_code == 200
    assert (await client.get(ADMIN_USERS_URL, headers=_auth(caller.access_token))).is_success


async def test_a_revoked_token_is_401_on_every_endpoint(
    client: httpx.AsyncClient, caller: Caller
) -> None:
    out = await client.delete(f"{SESSIONS_URL}/current", headers=_auth(caller.access_token))
    assert out.status_code == 204, out.text

    await _assert_all_refused(
        client, caller, _auth(caller.access_token), "token_revoked", "revoked"
    )


async def test_a_token_for_a_deleted_user_is_401(
    client: httpx.AsyncClient, container: FastContainer, caller: Caller
) -> None:
    tokens = await tokens_for(client, "ada@example.com")
    deleted = await client.delete(
        f"{ADMIN_USERS_URL}/{caller.other_user_id}", headers=_auth(caller.access_token)
    )
    assert deleted.status_code == 204, deleted.text

    response = await client.get(ME_URL, headers=_auth(tokens["access_token"]))

    assert_unauthorized(response, code="token_revoked")
