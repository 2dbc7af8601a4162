"""API fixtures: the real app on a fresh, migrated database, started through its lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from dashtam.core.config import Settings, get_settings
from tests.api.support import FastContainer, running


@pytest.fixture
def container(settings: Settings) -> FastContainer:
    return FastContainer(settings)


@pytest.fixture
async def started(container: FastContainer) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(container) as app_and_client:
        yield app_and_client


@pytest.fixture
def app(started: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return started[0]


@pytest.fixture
def client(started: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return started[1]


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """The CLI reads cached settings: forget them around each test."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
