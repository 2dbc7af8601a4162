"""A SimpleFIN server on loopback, with the sample accounts, for the provider tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.simplefin_bridge import SimplefinBridge, running_bridge, sample_accounts

# Every sample time is relative to this instant, so windows in tests are exact.
ANCHOR = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def simplefin_bridge() -> Iterator[SimplefinBridge]:
    with running_bridge() as bridge:
        bridge.accounts = sample_accounts(int(ANCHOR.timestamp()))
        yield bridge
