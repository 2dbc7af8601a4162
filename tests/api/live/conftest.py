"""Live-sync API fixtures: the real app, configured for a SimpleFIN server on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.live.support import live_settings
from tests.api.support import FastContainer, running
from tests.simplefin_bridge import SimplefinBridge, running_bridge, sample_accounts


@pytest.fixture
def bridge() -> Iterator[SimplefinBridge]:
    with running_bridge() as started:
        started.accounts = sample_accounts(int(time.time()))
        yield started


@pytest.fixture
def live_container(database_url: str) -> FastContainer:
    return FastContainer(live_settings(database_url))


@pytest.fixture
async def live_client(live_container: FastContainer) -> AsyncIterator[httpx.AsyncClient]:
    app_and_client: tuple[FastAPI, httpx.AsyncClient]
    async with running(live_container) as app_and_client:
        yield app_and_client[1]
