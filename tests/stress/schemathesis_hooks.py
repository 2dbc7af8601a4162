"""Schemathesis hooks (``SCHEMATHESIS_HOOKS=tests.stress.schemathesis_hooks``): a real log-in.

The token is fetched by logging in and fetched again on a 401, since a fuzzed
``DELETE /sessions/current`` may end the session it was using.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

# The log-in comes from its own (trusted-proxy) address: fuzzed log-ins from 127.0.0.1 may reach
# the per-address failure limit, and that must not lock the fuzzer itself out.
_LOGIN_FROM = {"x-forwarded-for": "192.0.2.77"}


@schemathesis.auth(refresh_interval=60)
class LogIn:
    def get(self, case: Any, ctx: Any) -> str:
        response = httpx.post(
            f"{os.environ['STRESS_BASE_URL']}/api/v1/sessions",
            json={"email": os.environ["STRESS_EMAIL"], "password": os.environ["STRESS_PASSWORD"]},
            headers=_LOGIN_FROM,
            timeout=30,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
