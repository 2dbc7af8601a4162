"""A NATS JetStream server for the broker tests, and a stream of their own per test.

The server is ``TEST_NATS_URL`` or ``nats://127.0.0.1:4222``. Absent, the tests are skipped,
unless ``DASHTAM_REQUIRE_NATS`` is set (CI): then absence is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import nats
import nats.js.errors
import pytest

from dashtam.core.ids import new_id
from dashtam.infrastructure.events.nats_broker import NatsOptions

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def nats_url() -> str:
    url = os.environ.get("TEST_NATS_URL", DEFAULT_NATS_URL)
    if not _reachable(url):
        if os.environ.get("DASHTAM_REQUIRE_NATS"):
            pytest.fail(f"NATS not reachable at {url} and DASHTAM_REQUIRE_NATS is set")
        pytest.skip(f"NATS not reachable at {url}")
    return url


def closed_port_url() -> str:
    """A NATS URL nobody listens on: a broker that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return f"nats://127.0.0.1:{port}"


@dataclass(frozen=True)
class Message:
    subject: str
    headers: dict[str, str]
    body: dict[str, object]


@dataclass(frozen=True)
class StreamProbe:
    """Reads back what one test's stream holds, in stream order."""

    url: str
    options: NatsOptions

    async def messages(self) -> list[Message]:
        client = await nats.connect(self.url)
        try:
            js = client.jetstream()
            try:
                info = await js.stream_info(self.options.stream)
            except nats.js.errors.NotFoundError:
                return []
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                raw = await js.get_msg(self.options.stream, seq)
                found.append(
                    Message(
                        subject=raw.subject or "",
                        headers=dict(raw.headers or {}),
                        body=json.loads(raw.data or b"{}"),
                    )
                )
            return found
        finally:
            await client.close()

    async def event_ids(self) -> list[str]:
        return [message.headers["Nats-Msg-Id"] for message in await self.messages()]


@pytest.fixture
async def stream(nats_url: str) -> AsyncIterator[StreamProbe]:
    """Options naming a stream and subjects no other test uses; the stream is deleted after."""
    tag = new_id().hex
    options = NatsOptions(url=nats_url, stream=f"TEST_{tag}", subject_prefix=f"test_{tag}.events")
    yield StreamProbe(url=nats_url, options=options)
    client = await nats.connect(nats_url)
    try:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await client.jetstream().delete_stream(options.stream)
    finally:
        await client.close()
