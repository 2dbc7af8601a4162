"""Events to NATS JetStream through the outbox relay, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.events import EventEnvelope
from dashtam.infrastructure.events.nats_broker import NatsOptions, NatsPublisher, message_of
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.outbox import OutboxEventModel
from tests.fakes.logger import RecordingLogger
from tests.integration.events_nats.conftest import StreamProbe, closed_port_url
from tests.integration.events_nats.support import (
    Recorder,
    commit_registrations,
    outbox_rows,
    strs,
    subscribers_done,
)


def _relay(database: Database, *subscribers: object, batch_size: int = 100) -> OutboxRelay:
    # Retries are due at once: backoff has tests of its own (test_relay_batches).
    return OutboxRelay(
        database=database,
        logger=get_logger("test"),
        subscribers=subscribers,  # type: ignore[arg-type]
        backoff_base_seconds=0,
        batch_size=batch_size,
    )


def _publisher(options: NatsOptions, logger: RecordingLogger | None = None) -> NatsPublisher:
    return NatsPublisher(options, logger=logger or RecordingLogger())


async def test_committed_event_is_published_after_commit(
    database: Database, stream: StreamProbe
) -> None:
    publisher = _publisher(stream.options)
    try:
        [event_id] = await commit_registrations(
            database, 1, relay=_relay(database, publisher), tag="pub"
        )
        [message] = await stream.messages()
    finally:
        await publisher.close()
    assert message.subject == f"{stream.options.subject_prefix}.UserRegistered"
    assert message.headers["Nats-Msg-Id"] == str(event_id)
    assert message.headers["Dashtam-Event-Type"] == "UserRegistered"
    assert message.body["event_id"] == str(event_id)
    assert message.body["event_type"] == "UserRegistered"
    payload = message.body["payload"]
    assert isinstance(payload, dict)
    assert payload["email"].startswith("pub0-")
    [row] = await outbox_rows(database, [event_id])
    assert row.delivered_at is not None  # marked only once the PubAck came back
    assert message.body["occurred_at"] == row.occurred_at.isoformat()
    # Complete at once: no record of the publisher is needed to skip it on a retry.
    assert await subscribers_done(database, event_id) == set()


async def test_same_event_published_twice_is_stored_once(stream: StreamProbe) -> None:
    publisher = _publisher(stream.options)
    event = EventEnvelope(
        event_id=new_id(),
        event_type="UserPasswordChanged",
        occurred_at=utcnow(),
        payload={"user_id": "u"},
    )
    try:
        await publisher.publish(event)
        await publisher.publish(event)  # a retry after a lost PubAck, say
    finally:
        await publisher.close()
    assert await stream.event_ids() == [str(event.event_id)]


async def test_broker_down_keeps_events_pending_then_publishes_them_in_order(
    database: Database, stream: StreamProbe
) -> None:
    recorder = Recorder()
    down = _publisher(replace(stream.options, url=closed_port_url()))
    ids = await commit_registrations(database, 3, relay=_relay(database, recorder, down))
    # In-process subscribers got every event at once; the broker got nothing.
    assert recorder.received == ids
    assert await stream.messages() == []
    for row in await outbox_rows(database, ids):
        assert row.delivered_at is None
        assert row.attempts == 1
        assert row.last_error is not None
        assert row.last_error.startswith("nats: ")

    # The broker is back. A new event must not overtake the three still waiting...
    up = _publisher(stream.options)
    relay = _relay(database, recorder, up)
    try:
        [newest] = await commit_registrations(database, 1, relay=relay, tag="late")
        assert await stream.messages() == []
        [row] = await outbox_rows(database, [newest])
        assert row.last_error == "nats: OrderHeldError"
        # ...and the retry publishes the backlog oldest first, then the new one.
        assert await relay.deliver_pending() == 4
        assert await stream.event_ids() == strs([*ids, newest])
    finally:
        await up.close()
    assert recorder.received == [*ids, newest]  # nobody in-process got an event twice
    assert all(row.delivered_at is not None for row in await outbox_rows(database, ids))


async def test_a_failed_publish_holds_the_rest_of_its_batch(
    database: Database, stream: StreamProbe
) -> None:
    first, later = await commit_registrations(database, 2, tag="held")
    # An event the broker refuses (its type is no subject token) between the two, by time.
    [row] = await outbox_rows(database, [first])
    async with database.transaction() as session:
        poison = OutboxEventModel(
            event_type="Not.A.Token",
            occurred_at=row.occurred_at,
            payload={},
            attempts=0,
            created_at=row.created_at + timedelta(microseconds=1),
        )
        session.add(poison)
    publisher = _publisher(stream.options)
    try:
        await _relay(database, publisher).deliver_pending()
    finally:
        await publisher.close()
    assert await stream.event_ids() == strs([first])
    _, held_poison, held_later = await outbox_rows(database, [first, poison.id, later])
    assert held_poison.delivered_at is None
    assert held_later.delivered_at is None
    assert held_later.last_error == "nats: OrderHeldError"


async def test_a_consumer_reads_the_stream_in_outbox_order(
    database: Database, stream: StreamProbe
) -> None:
    ids = await commit_registrations(database, 25, tag="order")
    publisher = _publisher(stream.options)
    try:
        # Small batches: order must hold across batch boundaries too.
        assert await _relay(database, publisher, batch_size=7).deliver_pending() == 25
    finally:
        await publisher.close()
    assert await stream.event_ids() == strs(ids)


async def test_a_dead_broker_is_not_dialled_again_before_the_cool_down(
    stream: StreamProbe,
) -> None:
    logger = RecordingLogger()
    password_url = closed_port_url().replace("//", "//dashtam:s3cret-pass@")
    options = replace(stream.options, url=password_url, retry_connect_after_seconds=3600.0)
    publisher = _publisher(options, logger)
    event = EventEnvelope(
        event_id=new_id(),
        event_type="UserPasswordChanged",
        occurred_at=utcnow(),
        payload={},
    )
    errors = []
    for _ in range(3):
        try:
            await publisher.publish(event)
        except Exception as exc:
            errors.append(exc)
    await publisher.close()
    assert [type(e).__name__ for e in errors] == ["BrokerUnavailableError"] * 3
    assert len(logger.find("nats_connect_failed")) == 1  # later calls failed without dialling
    text = repr(logger.records) + "".join(map(str, errors)) + repr(options)
    assert "s3cret-pass" not in text
    assert "dashtam:" not in text


def test_a_message_is_the_envelope_as_compact_utf8_json() -> None:
    event = EventEnvelope(
        event_id=new_id(),
        event_type="AccountRenamed",
        occurred_at=utcnow(),
        payload={"name": "Épargne Zürich", "amounts": ["12.50", "-0.01"], "nested": {"n": 3}},
        trace_id="trace-1",
    )
    body, headers = message_of(event)
    assert json.loads(body) == {
        "event_id": str(event.event_id),
        "event_type": "AccountRenamed",
        "occurred_at": event.occurred_at.isoformat(),
        "trace_id": "trace-1",
        "payload": event.payload,
    }
    assert "Épargne Zürich".encode() in body  # UTF-8, not \\u escapes
    assert b", " not in body  # compact
    assert b": " not in body
    assert headers == {
        "Nats-Msg-Id": str(event.event_id),
        "Dashtam-Event-Type": "AccountRenamed",
        "Dashtam-Occurred-At": event.occurred_at.isoformat(),
        "Dashtam-Trace-Id": "trace-1",
    }
