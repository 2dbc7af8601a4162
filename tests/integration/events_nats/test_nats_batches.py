"""How a relay batch meets the broker: pipelined in order, and held at the first failure."""

from __future__ import annotations

import nats
from nats.js.api import StreamConfig

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.events import EventEnvelope
from dashtam.infrastructure.events import batch
from dashtam.infrastructure.events.nats_broker import NatsPublisher
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.database import Database
from tests.fakes.logger import RecordingLogger
from tests.integration.events_nats.conftest import StreamProbe
from tests.integration.events_nats.support import insert_events, outbox_rows, strs


def _event(event_type: str = "UserPasswordChanged", **payload: object) -> EventEnvelope:
    return EventEnvelope(
        event_id=new_id(), event_type=event_type, occurred_at=utcnow(), payload=payload
    )


async def test_without_the_batch_hook_events_go_one_by_one_and_stop_at_a_failure(
    database: Database, stream: StreamProbe
) -> None:
    first, poison, last = _event(), _event("Not.A.Token"), _event()
    publisher = NatsPublisher(stream.options, logger=RecordingLogger())
    outcomes: list[str] = []
    try:
        async with database.transaction() as session:
            with batch.serving(session):
                for event in (first, poison, last):
                    try:
                        await publisher.handle(event)
                        outcomes.append("published")
                    except Exception as exc:
                        outcomes.append(type(exc).__name__)
    finally:
        await publisher.close()
    assert outcomes == ["published", "ValueError", "OrderHeldError"]
    assert await stream.event_ids() == strs([first.event_id])


async def test_a_message_the_stream_refuses_holds_the_events_after_it(
    database: Database, stream: StreamProbe
) -> None:
    # The operator's stream refuses big messages: the server says no in the PubAck.
    client = await nats.connect(stream.url)
    try:
        await client.jetstream().add_stream(
            StreamConfig(
                name=stream.options.stream,
                subjects=[f"{stream.options.subject_prefix}.>"],
                max_msg_size=600,
            )
        )
    finally:
        await client.close()
    small, big, after = await insert_events(database, [{"n": 1}, {"n": "x" * 700}, {"n": 3}])
    publisher = NatsPublisher(stream.options, logger=RecordingLogger())
    relay = OutboxRelay(database=database, logger=get_logger("test"), subscribers=[publisher])
    try:
        await relay.deliver_pending()
    finally:
        await publisher.close()
    first, refused, held = await outbox_rows(database, [small, big, after])
    assert first.delivered_at is not None
    assert refused.delivered_at is None
    assert refused.last_error == "nats: BrokerUnavailableError"
    assert held.delivered_at is None  # not recorded, though pipelining may have stored it
    assert held.last_error == "nats: OrderHeldError"
    # The documented limit of pipelining: a message refused on its own can be passed.
    assert (await stream.event_ids())[:1] == strs([small])
    assert str(big) not in await stream.event_ids()
