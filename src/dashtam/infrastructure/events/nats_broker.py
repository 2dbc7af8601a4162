"""Committed events leave the process through NATS JetStream (``EVENT_BROKER_URL=nats://...``).

``NatsPublisher`` is an outbox subscriber named ``nats``: the relay calls it like the others,
after commit, and when another subscriber of the event fails, records its success in
``event_deliveries`` so a retry skips it. It returns
only once the server has acknowledged the message (PubAck), so an outbox row is marked
delivered only after JetStream stored the event. ``Nats-Msg-Id`` is the event id: a second
publish of the same event inside the stream's duplicate window is dropped by the server.

Order (docs/events.md): a batch publishes in outbox order, one acknowledged message after
another. A failure holds the rest of its batch, and any later batch holds its events while an
older event that already failed is still waiting for its publish: newer events are never
published past a failed one, and after an outage the backlog goes out oldest first.

A broker that is down never fails a request and never holds it for long: connecting and
publishing have short bounds, a failed connection is not retried for ``retry_connect_after``
seconds, and once a failure is recorded later batches are held by one query, without network.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js.api import PubAck, StorageType, StreamConfig
from pydantic_core import to_json
from sqlalchemy import and_, bindparam, or_, select

from dashtam.domain.events import EventEnvelope
from dashtam.infrastructure.events.batch import batch_session
from dashtam.infrastructure.events.relay import DEFAULT_MAX_ATTEMPTS
from dashtam.infrastructure.persistence.models.outbox import EventDeliveryModel, OutboxEventModel

if TYPE_CHECKING:
    from nats.js.client import JetStreamContext
    from sqlalchemy.ext.asyncio import AsyncSession

    from dashtam.core.config import Settings
    from dashtam.domain.protocols.logger import LoggerProtocol

SUBSCRIBER_NAME = "nats"
DEFAULT_STREAM = "DASHTAM_EVENTS"
DEFAULT_SUBJECT_PREFIX = "dashtam.events"
# JetStream's own default; a publish retried after a lost PubAck falls well inside it.
DEFAULT_DUPLICATE_WINDOW_SECONDS = 120.0
DEFAULT_CONNECT_TIMEOUT_SECONDS = 2.0
DEFAULT_PUBLISH_TIMEOUT_SECONDS = 2.0
DEFAULT_RETRY_CONNECT_AFTER_SECONDS = 1.0

_STATE_KEY = "dashtam.nats_batch"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")  # one subject token: no dots, wildcards or spaces
_outbox = OutboxEventModel
_deliveries = EventDeliveryModel.metadata.tables[EventDeliveryModel.__tablename__]


class BrokerUnavailableError(Exception):
    """The event was not stored by JetStream; it stays pending. Never carries the URL."""


class OrderHeldError(Exception):
    """Not published so that it does not overtake an older event still waiting for the broker."""


@dataclass(slots=True)
class _BatchState:
    """What the publisher learnt in one relay batch (kept in the batch session's ``info``)."""

    checked: bool = False
    held: bool = False  # from here on, nothing more of this batch is published
    acked: set[UUID] = field(default_factory=set)  # stored by JetStream during ``prepare``
    failed: dict[UUID, Exception] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NatsOptions:
    """Where and how to publish; everything but the URL has a sensible default."""

    url: str = field(repr=False)  # may carry a password: never in a log or a traceback
    stream: str = DEFAULT_STREAM
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    duplicate_window_seconds: float = DEFAULT_DUPLICATE_WINDOW_SECONDS
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    publish_timeout_seconds: float = DEFAULT_PUBLISH_TIMEOUT_SECONDS
    retry_connect_after_seconds: float = DEFAULT_RETRY_CONNECT_AFTER_SECONDS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # the relay's: dead-lettered events hold nothing


def subject_for(prefix: str, event_type: str) -> str:
    if not _TOKEN.fullmatch(event_type):
        raise ValueError(f"event type {event_type!r} is not a valid subject token")
    return f"{prefix}.{event_type}"


def message_of(event: EventEnvelope) -> tuple[bytes, dict[str, str]]:
    """The message body (the envelope as JSON, UTF-8) and its headers."""
    event_id, occurred_at = str(event.event_id), event.occurred_at.isoformat()
    body = {
        "event_id": event_id,
        "event_type": event.event_type,
        "occurred_at": occurred_at,
        "trace_id": event.trace_id,
        "payload": event.payload,
    }
    headers = {
        "Nats-Msg-Id": event_id,
        "Dashtam-Event-Type": event.event_type,
        "Dashtam-Occurred-At": occurred_at,
    }
    if event.trace_id:
        headers["Dashtam-Trace-Id"] = event.trace_id
    # pydantic-core's encoder: the same compact JSON as json.dumps, in a fifth of the time
    # (non-ASCII text as UTF-8 rather than escaped); publishing is the relay's extra cost.
    return to_json(body), headers


# Built once: asked at the start of every batch the publisher delivers.
_MINE = select(_outbox.created_at).where(_outbox.id == bindparam("event_id")).scalar_subquery()
_OLDER_FAILED_AND_UNPUBLISHED = (
    select(_outbox.id)
    .where(
        _outbox.delivered_at.is_(None),
        # First attempts in flight elsewhere hold nothing: only a recorded failure does.
        _outbox.attempts > 0,
        _outbox.attempts < bindparam("max_attempts"),
        or_(
            _outbox.created_at < _MINE,
            and_(_outbox.created_at == _MINE, _outbox.id < bindparam("event_id")),
        ),
        ~select(_deliveries.c.event_id)
        .where(_deliveries.c.event_id == _outbox.id, _deliveries.c.subscriber == SUBSCRIBER_NAME)
        .exists(),
    )
    .limit(1)
)


async def older_event_waiting(session: AsyncSession, event_id: UUID, *, max_attempts: int) -> bool:
    """Whether an event older than this one failed before and is still not published."""
    found = await session.execute(
        _OLDER_FAILED_AND_UNPUBLISHED, {"event_id": event_id, "max_attempts": max_attempts}
    )
    return found.first() is not None


class NatsPublisher:
    """Outbox subscriber that publishes every event to JetStream and waits for its PubAck."""

    name = SUBSCRIBER_NAME

    def __init__(self, options: NatsOptions, *, logger: LoggerProtocol) -> None:
        self._options = options
        self._logger = logger
        self._client: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._lock = asyncio.Lock()
        self._down_until = 0.0
        self._closing = False

    @property
    def stream(self) -> str:
        return self._options.stream

    def accepts(self, event_type: str) -> bool:
        return True

    async def prepare(self, events: Sequence[EventEnvelope]) -> None:
        """Publish the batch's events pipelined, in order; ``handle`` then reports each outcome.

        Every message is sent before the first PubAck is awaited, and the acks are read in
        order: the first failure holds everything after it, even a message the server may have
        stored meanwhile (it is published again later and dropped as a duplicate).
        """
        session = batch_session()
        if session is None or not events:
            return
        state = await self._state(session, events[0])
        if state.held:
            return
        sent: list[tuple[UUID, asyncio.Future[PubAck]]] = []
        try:
            js = await self._jetstream()
            for event in events:
                sent.append((event.event_id, await self._send(js, event)))
        except Exception as exc:
            state.failed[events[len(sent)].event_id] = self._failure(exc)
            state.held = True
        await self._collect(sent, state)

    async def handle(self, event: EventEnvelope) -> None:
        session = batch_session()
        if session is None:  # outside a relay batch (a tool, a test): no order to keep
            await self.publish(event)
            return
        state = await self._state(session, event)
        if event.event_id in state.acked:
            return
        if event.event_id in state.failed:
            raise state.failed[event.event_id]
        if state.held:
            raise OrderHeldError("an older event is still waiting for the broker")
        try:  # not prepared (a relay without the hook): one acknowledged publish at a time
            await self.publish(event)
        except BaseException:
            state.held = True  # later events of this batch must not overtake this one
            raise

    async def _state(self, session: AsyncSession, first: EventEnvelope) -> _BatchState:
        state: _BatchState = session.info.setdefault(_STATE_KEY, _BatchState())
        if not state.checked:
            state.checked = True
            # Events come oldest first, so the batch's first event speaks for all of them.
            state.held = await older_event_waiting(
                session, first.event_id, max_attempts=self._options.max_attempts
            )
        return state

    async def _send(self, js: JetStreamContext, event: EventEnvelope) -> asyncio.Future[PubAck]:
        body, headers = message_of(event)
        subject = subject_for(self._options.subject_prefix, event.event_type)
        # No stall timeout: with one, nats-py wraps each send in a task and yields, and the
        # flusher then writes every message on its own. The relay's subscriber timeout bounds
        # a wait for free slots (4,000 unacknowledged messages per connection).
        return await js.publish_async(subject, body, stream=self._options.stream, headers=headers)

    async def _collect(
        self, sent: list[tuple[UUID, asyncio.Future[PubAck]]], state: _BatchState
    ) -> None:
        """Read the PubAcks in order, within one publish timeout for them all."""
        waiting = iter(sent)
        try:
            async with asyncio.timeout(self._options.publish_timeout_seconds):
                for event_id, future in waiting:
                    try:
                        await future
                    except Exception as exc:
                        state.failed[event_id] = self._failure(exc)
                        state.held = True
                        break
                    state.acked.add(event_id)
        except TimeoutError as exc:
            pending = [event_id for event_id, _ in sent if event_id not in state.acked]
            state.failed[pending[0]] = self._failure(exc)
            state.held = True
        for _, future in sent:
            future.cancel()  # no-op when done; frees nats-py's slot of one never acknowledged

    def _failure(self, exc: BaseException) -> Exception:
        """The error an event fails with: the type only, never the broker's words or URL."""
        if isinstance(exc, BrokerUnavailableError | ValueError):
            return exc
        self._logger.warning("nats_publish_failed", error_type=type(exc).__name__)
        if isinstance(exc, nats.js.errors.NoStreamResponseError | nats.errors.NoRespondersError):
            self._stream_ready = False  # deleted under us: ensure it again next time
        return BrokerUnavailableError(f"NATS publish failed: {type(exc).__name__}")

    async def publish(self, event: EventEnvelope) -> None:
        """Publish one event; returns once JetStream acknowledged it (or it was a duplicate)."""
        subject = subject_for(self._options.subject_prefix, event.event_type)
        body, headers = message_of(event)
        js = await self._jetstream()
        try:
            await js.publish(
                subject,
                body,
                timeout=self._options.publish_timeout_seconds,
                stream=self._options.stream,
                headers=headers,
            )
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            raise self._failure(exc) from None

    async def connect(self) -> None:
        """Connect and ensure the stream now (a warm-up); publishing does it lazily anyway."""
        await self._jetstream()

    async def close(self) -> None:
        async with self._lock:
            await self._drop_client()

    async def _jetstream(self) -> JetStreamContext:
        client, js = self._client, self._js
        if js is not None and client is not None and not client.is_closed and self._stream_ready:
            return js  # the hot path: no lock
        async with self._lock:
            return await self._connected()

    async def _connected(self) -> JetStreamContext:
        """Under the lock: the live context, connecting and ensuring the stream if needed."""
        if self._client is None or self._client.is_closed:
            await self._drop_client()
            if time.monotonic() < self._down_until:
                raise BrokerUnavailableError("NATS unreachable (waiting before reconnecting)")
            self._client = await self._connect()
            self._js = self._client.jetstream(timeout=self._options.publish_timeout_seconds)
        assert self._js is not None
        if not self._stream_ready:
            try:
                await self._ensure_stream(self._js)
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                raise BrokerUnavailableError(
                    f"NATS stream not ready: {type(exc).__name__}"
                ) from None
            self._stream_ready = True
        return self._js

    async def _connect(self) -> NatsClient:
        client = NatsClient()
        try:
            async with asyncio.timeout(self._options.connect_timeout_seconds):
                await client.connect(
                    servers=[self._options.url],
                    name="dashtam-relay",
                    # nats-py annotates these as int but hands them to asyncio, which
                    # takes any float; the bound that matters is the timeout around us.
                    connect_timeout=self._options.connect_timeout_seconds,  # type: ignore[arg-type]
                    # No in-client reconnect: it would replay buffered messages on the new
                    # connection, after ones lost with the old, out of order. A lost
                    # connection closes the client; the next batch dials again (after the
                    # cool-down). The first dial makes two tries (nats-py's minimum).
                    allow_reconnect=False,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0.25,  # type: ignore[arg-type]
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                )
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            self._down_until = time.monotonic() + self._options.retry_connect_after_seconds
            with contextlib.suppress(Exception):
                await client.close()
            self._logger.warning("nats_connect_failed", error_type=type(exc).__name__)
            raise BrokerUnavailableError(f"NATS unreachable: {type(exc).__name__}") from None
        self._logger.info("nats_connected", stream=self._options.stream)
        return client

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create the stream if missing; an existing one is left as its operator set it."""
        try:
            await js.stream_info(self._options.stream)
            return
        except nats.js.errors.NotFoundError:
            pass
        config = StreamConfig(
            name=self._options.stream,
            subjects=[f"{self._options.subject_prefix}.>"],
            storage=StorageType.FILE,
            duplicate_window=self._options.duplicate_window_seconds,
        )
        try:
            await js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await js.stream_info(self._options.stream)  # created meanwhile by another relay
        self._logger.info("nats_stream_created", stream=self._options.stream)

    async def _drop_client(self) -> None:
        client, self._client, self._js = self._client, None, None
        self._stream_ready = False
        if client is not None and not client.is_closed:
            self._closing = True
            try:
                with contextlib.suppress(Exception):
                    await client.close()
            finally:
                self._closing = False

    async def _on_error(self, exc: Exception) -> None:
        # nats-py's default callback logs a traceback per failed try; one line is enough.
        self._logger.warning("nats_client_error", error_type=type(exc).__name__)

    async def _on_disconnected(self) -> None:
        if not self._closing:  # our own close disconnects too: nothing to warn about
            self._logger.warning("nats_disconnected")


def publisher_from_settings(settings: Settings, *, logger: LoggerProtocol) -> NatsPublisher | None:
    """The publisher when ``EVENT_BROKER_URL`` names a NATS server; None when it is empty.

    Raises ``ValueError`` naming the setting (never its value: it may hold a password) for
    any other scheme, so a broker configured by mistake is not silently ignored.
    """
    url = settings.event_broker_url.strip()
    if not url:
        return None
    if not url.startswith(("nats://", "tls://")):
        raise ValueError("EVENT_BROKER_URL must be empty or a nats:// (or tls://) URL")
    options = NatsOptions(
        url=url,
        stream=settings.event_broker_stream,
        subject_prefix=settings.event_broker_subject_prefix,
    )
    return NatsPublisher(options, logger=logger)
