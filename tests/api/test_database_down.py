"""With the database unreachable: alive, not ready, and every answer a typed problem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dashtam.core.config import Settings
from dashtam.presentation.api.app import create_app
from tests.api.support import FastContainer, assert_problem, make_client, running


@pytest.fixture
async def down_container(backend: str, tmp_path: Path) -> AsyncIterator[FastContainer]:
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'no-such-directory' / 'x.db'}"
    else:
        url = "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/x"
    container = FastContainer(Settings(DATABASE_URL=url, DASHTAM_ENV="test", LOG_LEVEL="WARNING"))
    try:
        yield container
    finally:
        await container.aclose()


async def test_ready_is_503_while_health_stays_200(down_container: FastContainer) -> None:
    # No lifespan here: this is about the probes alone.
    app = create_app(down_container, configure_logs=False)
    async with make_client(app) as client:
        ready = await client.get("/ready")
        health = await client.get("/health")

    body = assert_problem(ready, status=503, code="database_unavailable")
    assert body["title"] == "Service Unavailable"
    assert "127.0.0.1:1" not in ready.text
    assert "hunter2" not in ready.text
    assert health.status_code == 200


async def test_app_starts_while_the_database_is_down(down_container: FastContainer) -> None:
    async with running(down_container) as (_app, client):
        ready = await client.get("/ready")

    assert_problem(ready, status=503, code="database_unavailable")


async def test_register_while_the_database_is_down_is_503(
    down_container: FastContainer,
) -> None:
    app = create_app(down_container, configure_logs=False)

    async with make_client(app) as client:
        response = await client.post(
            "/api/v1/users", json={"email": "ada@example.com", "password": "a long passphrase"}
        )

    body = assert_problem(response, status=503, code="database_unavailable")
    assert body["detail"] == "the service is temporarily unavailable"
    assert "hunter2" not in response.text
