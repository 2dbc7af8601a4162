"""The integration tests' container, beside tests/conftest.py's throw-away databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dashtam.bootstrap import Container
from dashtam.core.config import Settings
from tests.api.support import FastContainer


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """The real container on the test's database, its argon2id tuned down."""
    built = FastContainer(settings)
    try:
        yield built
    finally:
        await built.aclose()
