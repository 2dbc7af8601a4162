"""Events through NATS JetStream against the in-process-only relay, in the same run.

Throughput: an outbox backlog drained by relay processes with only the in-process logging
subscriber (A) and with the NATS publisher as well (B), interleaved A, B, A, B; then
``RELAYS`` processes with the publisher, released together. Lag: ``dashtam events relay``
(poll interval ``POLL_S``) without and with ``EVENT_BROKER_URL`` while a producer commits
500 events/s; in-process lag is ``delivered_at - created_at`` (delivered_at is written after
the PubAck when the broker is on), broker lag is a NATS subscriber's receipt time minus the
event's ``occurred_at`` (equal to its ``created_at`` here).

    .venv/bin/python -m bench.nats_relay [--quick]      # NATS at BENCH_NATS_URL or :4222
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import asyncpg
import nats
import nats.js.errors
from nats.aio.msg import Msg

from bench.common import (
    CLI,
    BenchResult,
    median,
    percentile,
    plain_dsn,
    process,
    server_env,
    throughput,
    throwaway_postgres,
)
from bench.relay import drain_in_processes
from dashtam.application.events import EventSubscriber
from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.infrastructure.events.nats_broker import NatsOptions, NatsPublisher
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.events.subscribers import LoggingSubscriber
from dashtam.infrastructure.logging.setup import configure_logging, get_logger
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database

NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")
BACKLOG, QUICK_BACKLOG = 20_000, 5_000
RELAYS = 2
RATE, TICK_S, POLL_S = 500, 0.1, 0.2
_COLUMNS = ["id", "created_at", "event_type", "occurred_at", "payload", "attempts"]


def _rows(count: int, at: datetime, tag: str) -> list[tuple[object, ...]]:
    return [
        (new_id(), at + timedelta(microseconds=i), "UserRegistered", at + timedelta(microseconds=i),
         json.dumps({"user_id": str(new_id()), "email": f"{tag}{i}@bench.example"}), 0)
        for i in range(count)
    ]  # fmt: skip


async def _seed(dsn: str, backlog: int) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("TRUNCATE event_outbox CASCADE")
        rows = _rows(backlog, utcnow() - timedelta(hours=1), "b")
        await connection.copy_records_to_table("event_outbox", records=rows, columns=_COLUMNS)
        await connection.execute("ANALYZE event_outbox")
    finally:
        await connection.close()


def _relay_process(
    url: str, options: NatsOptions | None, ready: Queue[int], go: Event, done: Queue[int]
) -> None:
    async def run() -> None:
        configure_logging(level="WARNING", log_format="console")
        db, logger = Database(url, pool_size=2), get_logger("bench")
        publisher = NatsPublisher(options, logger=logger) if options else None
        subscribers: list[EventSubscriber] = [LoggingSubscriber(logger=logger)]
        if publisher is not None:
            subscribers.append(publisher)
        relay = OutboxRelay(database=db, logger=logger, subscribers=subscribers)
        try:
            async with db.engine.connect():
                pass
            if publisher is not None:  # connected and the stream ensured before the clock
                await publisher.connect()
            ready.put(1)
            await asyncio.to_thread(go.wait)
            done.put(await relay.deliver_pending())
        finally:
            if publisher is not None:
                await publisher.close()
            await db.close()

    asyncio.run(run())


def _drain(url: str, options: NatsOptions | None, relays: int, backlog: int) -> float:
    return drain_in_processes(url, _relay_process, (options,), relays=relays, backlog=backlog)


async def _produce(dsn: str, seconds: float) -> int:
    """Commit RATE events per second, one COPY per tick; returns how many."""
    connection = await asyncpg.connect(dsn)
    per_tick, ticks = int(RATE * TICK_S), int(seconds / TICK_S)
    started = time.perf_counter()
    try:
        for tick in range(ticks):
            rows = _rows(per_tick, utcnow(), f"lag{tick}-")
            await connection.copy_records_to_table("event_outbox", records=rows, columns=_COLUMNS)
            await asyncio.sleep(max(0.0, started + (tick + 1) * TICK_S - time.perf_counter()))
    finally:
        await connection.close()
    return ticks * per_tick


async def _outbox_lags(dsn: str, total: int) -> list[float]:
    connection = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = await connection.fetch(
                "SELECT EXTRACT(EPOCH FROM delivered_at - created_at)::float8 AS lag"
                " FROM event_outbox WHERE delivered_at IS NOT NULL"
            )
            if len(rows) >= total:
                return [row["lag"] for row in rows]
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the relay delivered {len(rows)} of {total} events in time")
    finally:
        await connection.execute("TRUNCATE event_outbox CASCADE")
        await connection.close()


async def _lag_run(
    url: str, options: NatsOptions | None, seconds: float
) -> tuple[list[float], list[float]]:
    """(outbox lags, broker lags) for one ``dashtam events relay`` at RATE events/s."""
    broker_lags: list[float] = []
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        await connection.execute("TRUNCATE event_outbox CASCADE")  # the throughput backlog
    finally:
        await connection.close()

    async def received(message: Msg) -> None:
        occurred = datetime.fromisoformat(json.loads(message.data)["occurred_at"])
        broker_lags.append((datetime.now(UTC) - occurred).total_seconds())

    extra: dict[str, str] = {}
    client = await nats.connect(NATS_URL)
    if options is not None:
        extra = {
            "EVENT_BROKER_URL": options.url,
            "EVENT_BROKER_STREAM": options.stream,
            "EVENT_BROKER_SUBJECT_PREFIX": options.subject_prefix,
        }
        await client.subscribe(f"{options.subject_prefix}.>", cb=received)
    command = [sys.executable, "-c", CLI, "events", "relay", "--poll-interval", str(POLL_S)]
    try:
        with process(command, server_env(url, **extra)):
            await asyncio.sleep(3.0)  # start-up, before the clock matters
            total = await _produce(plain_dsn(url), seconds)
            lags = await _outbox_lags(plain_dsn(url), total)
            await asyncio.sleep(0.5)  # the last messages on their way to the subscriber
    finally:
        await client.close()
    return lags, broker_lags


async def run_nats_relay_bench(*, quick: bool) -> list[BenchResult]:
    backlog, runs = (QUICK_BACKLOG, 2) if quick else (BACKLOG, 3)
    tag = new_id().hex
    options = NatsOptions(url=NATS_URL, stream=f"BENCH_{tag}", subject_prefix=f"bench_{tag}.events")
    local: list[float] = []
    brokered: list[float] = []
    many: list[float] = []
    try:
        async with throwaway_postgres() as url:
            migrator.upgrade(url)
            for _ in range(runs):
                for broker, relays, rates in ((None, 1, local), (options, 1, brokered)):
                    await _seed(plain_dsn(url), backlog)
                    elapsed = await asyncio.to_thread(_drain, url, broker, relays, backlog)
                    rates.append(backlog / elapsed)
            for _ in range(runs):
                await _seed(plain_dsn(url), backlog)
                elapsed = await asyncio.to_thread(_drain, url, options, RELAYS, backlog)
                many.append(backlog / elapsed)
            seconds = 5.0 if quick else 15.0
            local_lag, _ = await _lag_run(url, None, seconds)
            outbox_lag, broker_lag = await _lag_run(url, options, seconds)
    finally:
        client = await nats.connect(NATS_URL)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await client.jetstream().delete_stream(options.stream)
        await client.close()
    note = f"backlog {backlog:,}, {runs} runs each"
    p99 = percentile(broker_lag, 99)
    return [
        throughput("relay + NATS vs in-process only", median(brokered), median(local),
                   "events/s", 0.5, f"one relay process; {note}"),
        throughput(f"relay + NATS, {RELAYS} relays vs one", median(many), median(brokered),
                   "events/s", 1.0, f"a process each; {note}"),
        BenchResult("NATS lag p99 at 500 events/s", p99, percentile(local_lag, 99), "s",
                    p99 / 1.0, 1.0, "lower",
                    f"raw = in-process lag p99; poll {POLL_S} s; {len(broker_lag):,} received, "
                    f"outbox lag p99 with NATS {percentile(outbox_lag, 99):.3f} s"),
    ]  # fmt: skip


def main() -> None:
    results = asyncio.run(run_nats_relay_bench(quick="--quick" in sys.argv))
    for result in results:
        raw = "-" if result.raw is None else f"{result.raw:,.3f}"
        print(f"{result.path:<40} ours {result.ours:>12,.3f}  raw {raw:>12} {result.unit:<9}"
              f" ratio {result.ratio:.2f} (target {result.target:g}, {result.better})"
              f"  {result.notes}")  # fmt: skip


if __name__ == "__main__":
    main()
