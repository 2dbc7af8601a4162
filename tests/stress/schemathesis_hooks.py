"""Schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.stress.schemathesis_hooks``): a real log-in.

The token is fetched by logging in, and fetched again on a 401: a fuzzed
``DELETE /sessions/current`` may end the session it was using. The fuzzer reads the admins'
emails and ids from ``GET /admin/users`` and may replay them, so it is kept from locking out
(wrong passwords on ``POST /sessions``) or deleting its own identities, and holds several.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import schemathesis

# Log-ins come from their own (trusted-proxy) address: fuzzed log-ins from 127.0.0.1 may reach
# the per-address failure limit, and that must not lock the fuzzer itself out.
_LOGIN_FROM = {"x-forwarded-for": "192.0.2.77"}


def _emails() -> list[str]:
    return os.environ["STRESS_EMAILS"].split(",")


@schemathesis.hook
def filter_case(ctx: Any, case: Any) -> bool:
    """Drop a case aimed at the fuzzer's own admins (log-in as them, change or delete them)."""
    body = case.body if isinstance(case.body, dict) else {}
    ids = os.environ["STRESS_ADMIN_IDS"].split(",")
    aimed = body.get("email") in _emails() or (case.path_parameters or {}).get("user_id") in ids
    return not aimed


# Operations on the caller's own identity. A wrong password guess counts toward the caller's
# log-in throttle (as it must), and a log-out ends the session every other case is using: run
# against the fuzzer's admins, they would lock it out or leave it answering 401 for a while.
_OWN_IDENTITY = (
    ("DELETE", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me/password"),
    ("DELETE", "/api/v1/sessions/current"),
    ("DELETE", "/api/v1/sessions/{session_id}"),
)


def _targets_own_identity(ctx: Any) -> bool:
    """Auth filter: ``ctx.operation`` is the API operation a case is for."""
    return (ctx.operation.method.upper(), ctx.operation.path) in _OWN_IDENTITY


@schemathesis.auth(refresh_interval=60).skip_for(_targets_own_identity)  # type: ignore[arg-type]
class LogIn:
    def get(self, case: Any, ctx: Any) -> str:
        refusals = []
        for email in _emails():
            response = httpx.post(
                f"{os.environ['STRESS_BASE_URL']}/api/v1/sessions",
                json={"email": email, "password": os.environ["STRESS_PASSWORD"]},
                headers=_LOGIN_FROM,
                timeout=30,
            )
            if response.status_code == 201:
                token: str = response.json()["access_token"]
                return token
            refusals.append(f"{email}: {response.status_code} {response.text[:200]}")
        raise RuntimeError("every log-in refused: " + "; ".join(refusals))

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.auth(cache_by_key=lambda case, _ctx: id(case)).apply_to(  # type: ignore[arg-type]
    _targets_own_identity
)
class FreshAccount:
    """Each case on the caller's own identity gets an account of its own, registered here."""

    def get(self, case: Any, ctx: Any) -> str:
        base = os.environ["STRESS_BASE_URL"]
        credentials = {
            "email": f"fuzz-self-{uuid.uuid4().hex}@example.com",
            "password": os.environ["STRESS_PASSWORD"],
        }
        registered = httpx.post(f"{base}/api/v1/users", json=credentials, timeout=30)
        if registered.status_code != 201:
            raise RuntimeError(f"registration refused: {registered.status_code}")
        response = httpx.post(
            f"{base}/api/v1/sessions", json=credentials, headers=_LOGIN_FROM, timeout=30
        )
        if response.status_code != 201:
            raise RuntimeError(f"log-in refused: {response.status_code} {response.text[:200]}")
        token: str = response.json()["access_token"]
        return token

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
