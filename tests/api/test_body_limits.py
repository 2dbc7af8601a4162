"""Oversized bodies are refused with 413 before the app reads (or spools) them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dashtam.core.config import Settings
from dashtam.presentation.api.app import JSON_BODY_LIMIT
from tests.api.support import (
    FastContainer,
    assert_problem,
    bearer,
    create_user,
    running,
    tokens_for,
)

SMALL_IMPORT_LIMIT = 4096


async def test_a_declared_oversized_json_body_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = b'{"email": "a@b.co", "password": "' + b"x" * JSON_BODY_LIMIT + b'"}'
    response = await client.post(
        "/api/v1/users", content=body, headers={"content-type": "application/json"}
    )
    body_json = assert_problem(response, status=413, code="payload_too_large")
    assert str(JSON_BODY_LIMIT) in body_json["detail"]


async def test_a_streamed_body_without_length_is_cut_off(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@b.co", "password": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/api/v1/users", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, status=413, code="payload_too_large")


@pytest.fixture
def small_import_settings(database_url: str) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        DASHTAM_ENV="test",
        LOG_LEVEL="WARNING",
        DASHTAM_IMPORT_MAX_BYTES=SMALL_IMPORT_LIMIT,
    )


async def test_an_upload_far_over_the_import_limit_is_refused_before_parsing(
    small_import_settings: Settings,
) -> None:
    container = FastContainer(small_import_settings)
    async with running(container) as (_app, client):
        await create_user(container, "big@example.com")
        headers = bearer((await tokens_for(client, "big@example.com"))["access_token"])
        created = await client.post(
            "/api/v1/connections", json={"provider": "ofx-file"}, headers=headers
        )
        upload = await client.post(
            f"/api/v1/connections/{created.json()['id']}/imports",
            files={"file": ("huge.ofx", b"x" * (200 * 1024))},
            headers=headers,
        )
        # Just over the file limit but within the framing allowance: the endpoint's own check.
        near = await client.post(
            f"/api/v1/connections/{created.json()['id']}/imports",
            files={"file": ("near.ofx", b"x" * (SMALL_IMPORT_LIMIT + 1))},
            headers=headers,
        )
    assert_problem(upload, status=413, code="payload_too_large")
    assert_problem(near, status=413, code="file_too_large")
