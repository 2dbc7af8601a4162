"""The consumer shown in docs/events.md reads what the publisher sends, in order, and resumes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.events import EventEnvelope
from dashtam.infrastructure.events.nats_broker import NatsPublisher
from tests.documented import documented_function
from tests.fakes.logger import RecordingLogger
from tests.integration.events_nats.conftest import StreamProbe

Consume = Callable[..., Awaitable[None]]


def _documented() -> Consume:
    return documented_function("events.md", "consume_dashtam_events")


async def _read(consume: Consume, stream: StreamProbe, count: int) -> list[dict[str, Any]]:
    """Run the documented consumer until it has handled ``count`` events."""
    received: list[dict[str, Any]] = []
    stop = asyncio.Event()

    async def handle(event: dict[str, Any]) -> None:
        received.append(event)
        if len(received) >= count:
            stop.set()

    async with asyncio.timeout(30):
        await consume(
            stream.url,
            handle,
            durable="docs-example",
            stream=stream.options.stream,
            subjects=f"{stream.options.subject_prefix}.>",
            stop=stop,
        )
    return received


async def _publish(stream: StreamProbe, count: int) -> list[str]:
    publisher = NatsPublisher(stream.options, logger=RecordingLogger())
    events = [
        EventEnvelope(
            event_id=new_id(),
            event_type="SyncCompleted",
            occurred_at=utcnow(),
            payload={"n": index},
        )
        for index in range(count)
    ]
    try:
        for event in events:
            await publisher.publish(event)
    finally:
        await publisher.close()
    return [str(event.event_id) for event in events]


async def test_the_documented_consumer_reads_in_order_and_resumes_after_its_acks(
    stream: StreamProbe,
) -> None:
    consume = _documented()
    first = await _publish(stream, 3)
    assert [e["event_id"] for e in await _read(consume, stream, 3)] == first
    later = await _publish(stream, 2)
    # The durable consumer resumes after what it acknowledged: only the new events come.
    resumed = await _read(consume, stream, 2)
    assert [e["event_id"] for e in resumed] == later
    assert resumed[0]["event_type"] == "SyncCompleted"
    assert resumed[0]["payload"] == {"n": 0}
