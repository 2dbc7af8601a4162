"""SQLite refusing writes (read-only file, full disk): writes 503/507, reads fine, not ready.

Tests run as root, so ``chmod`` would not stop a write: the read-only database is the same file
opened with ``mode=ro``, and a full disk is ``PRAGMA max_page_count`` pinned to the current
size on every connection the app opens (SQLite then answers SQLITE_FULL exactly as on a full
file system).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from dashtam.core.config import Settings
from dashtam.presentation.api.app import create_app
from tests.api.finance_support import sign_up
from tests.api.support import (
    PASSWORD,
    USERS_URL,
    FastContainer,
    assert_problem,
    make_client,
    running,
)

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])

ME_URL = "/api/v1/users/me"


def _settings(url: str) -> Settings:
    return Settings(
        DATABASE_URL=url, DASHTAM_ENV="test", LOG_LEVEL="WARNING", DASHTAM_AUDIT_SEAL_INTERVAL=0
    )


@pytest.fixture
async def signed_up(database_url: str) -> AsyncIterator[dict[str, str]]:
    """A user registered (and the app stopped) on this test's database; its bearer headers."""
    async with running(FastContainer(_settings(database_url))) as (_app, client):
        yield await sign_up(client, "faults@example.com")


@SQLITE_ONLY
async def test_read_only_database_refuses_writes_and_serves_reads(
    database_url: str, signed_up: dict[str, str]
) -> None:
    path = make_url(database_url).database
    read_only_url = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"

    async with running(FastContainer(_settings(read_only_url))) as (_app, client):
        me = await client.get(ME_URL, headers=signed_up)
        register = await client.post(
            USERS_URL, json={"email": "new@example.com", "password": PASSWORD}
        )
        ready = await client.get("/ready")

    assert me.status_code == 200, me.text
    assert_problem(register, status=503, code="database_read_only")
    assert int(register.headers["retry-after"]) > 0
    assert_problem(ready, status=503, code="database_read_only")
    assert int(ready.headers["retry-after"]) > 0


def _pin_size(dbapi_connection: Any, _record: Any) -> None:
    # Clamped to the current size: the file can no longer grow, as on a full disk.
    dbapi_connection.execute("PRAGMA max_page_count = 1")


@SQLITE_ONLY
async def test_full_database_refuses_writes_with_507_and_serves_reads(
    database_url: str, signed_up: dict[str, str]
) -> None:
    container = FastContainer(_settings(database_url))
    async with running(container) as (_app, client):
        assert (await client.get("/ready")).status_code == 200
        event.listen(container.database.engine.sync_engine, "connect", _pin_size)
        await container.database.engine.dispose()  # pooled connections reconnect, pinned

        statuses: list[int] = []
        for index in range(500):
            response = await client.post(
                USERS_URL, json={"email": f"fill{index}@example.com", "password": PASSWORD}
            )
            statuses.append(response.status_code)
            if response.status_code != 201:
                break
        full = response
        me = await client.get(ME_URL, headers=signed_up)
        ready = await client.get("/ready")

    assert len(statuses) > 1, "the first write after pinning the size already failed"
    assert set(statuses[:-1]) == {201}, statuses
    assert_problem(full, status=507, code="storage_full")
    assert int(full.headers["retry-after"]) > 0
    assert me.status_code == 200, me.text
    assert_problem(ready, status=503, code="storage_full")


@SQLITE_ONLY
async def test_ready_is_200_on_a_writable_database(
    database_url: str, signed_up: dict[str, str]
) -> None:
    async with running(FastContainer(_settings(database_url))) as (_app, client):
        ready = await client.get("/ready")

    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


async def test_unavailable_problems_carry_retry_after(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    container = FastContainer(_settings(url))

    async with make_client(create_app(container, configure_logs=False)) as client:
        register = await client.post(
            USERS_URL, json={"email": "x@example.com", "password": PASSWORD}
        )
    await container.aclose()

    assert_problem(register, status=503, code="database_unavailable")
    assert int(register.headers["retry-after"]) > 0


@SQLITE_ONLY
async def test_a_database_fault_escaping_a_handler_is_a_503(
    database_url: str, signed_up: dict[str, str]
) -> None:
    """A driver error nobody turned into a Result still reaches the client as a typed 503."""
    container = FastContainer(_settings(database_url))
    async with running(container) as (app, client):

        @app.get("/test-only/escaping-fault")
        async def _escaping() -> None:
            raise TimeoutError("simulated lost round trip")

        response = await client.get("/test-only/escaping-fault")

    assert_problem(response, status=503, code="database_unavailable")
    assert int(response.headers["retry-after"]) > 0
