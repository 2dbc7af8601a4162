"""A route that names the caller several times (principal, audit context) authenticates once:
the caller's dependencies share one answer per request, by log-in session or personal token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from tests.api.finance_support import ACCOUNTS_URL, connect, imported, sign_up
from tests.api.personal_token_support import create_token

# Each names both ReadPrincipalDep and ReadContextDep.
TWICE_NAMED = (ACCOUNTS_URL, "/api/v1/users/me/net-worth")


@contextmanager
def statements_reading(app: FastAPI, table: str) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs that read ``table``."""
    database = app.state.container.database
    # On SQLite the read engine is a view of the one engine, whose listeners it shares.
    engines = [database.engine] if database.is_sqlite else [database.engine, database.read_engine]
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if f"FROM {table}" in statement:
            seen.append(statement)

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine.sync_engine, "before_cursor_execute", before)


@pytest.mark.parametrize("path", TWICE_NAMED)
async def test_a_session_token_is_checked_once_per_request(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    headers = await sign_up(client, "once@example.com")
    await imported(
        client, headers, await connect(client, headers, "ofx-file"), "checking_ofx1_sgml.ofx"
    )
    with statements_reading(app, "auth_sessions") as seen:
        response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    assert len(seen) == 1, seen


@pytest.mark.parametrize("path", TWICE_NAMED)
async def test_a_personal_token_is_checked_once_per_request(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    headers = await sign_up(client, "once@example.com")
    token = (await create_token(client, headers, scopes=("read",)))["token"]
    with statements_reading(app, "personal_access_tokens") as seen:
        response = await client.get(path, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert len(seen) == 1, seen
