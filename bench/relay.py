"""Draining an outbox backlog: events/s delivered by one relay against three side by side.

Each relay is a process of its own (its own interpreter, pool and connections), as relays are
deployed; all of them are started and connected first, then released together, and the clock
runs from the release until the last one is done. The backlog is re-seeded before each run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import asyncpg

from bench.common import BenchResult, median, plain_dsn, throughput, throwaway_postgres
from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.events.subscribers import LoggingSubscriber
from dashtam.infrastructure.logging.setup import configure_logging, get_logger
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database

BACKLOG = 20_000
QUICK_BACKLOG = 5_000
MIN_ONE_RELAY_RATE = 2_000.0
RELAYS = 2  # one per core of the 2-core reference machine; more only compete for it


async def _seed(dsn: str, backlog: int) -> None:
    start = utcnow() - timedelta(hours=1)
    records = [
        (
            new_id(),
            start + timedelta(microseconds=index),
            "UserRegistered",
            start,
            json.dumps({"user_id": str(new_id()), "email": f"u{index}@bench.example"}),
            0,
        )
        for index in range(backlog)
    ]
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("TRUNCATE event_outbox CASCADE")
        await connection.copy_records_to_table(
            "event_outbox",
            records=records,
            columns=["id", "created_at", "event_type", "occurred_at", "payload", "attempts"],
        )
        await connection.execute("ANALYZE event_outbox")
    finally:
        await connection.close()


def _relay_process(url: str, ready: Queue[int], go: Event, done: Queue[int]) -> None:
    """One relay in a child process: connect, say so, wait for the start, drain, report."""

    async def run() -> None:
        configure_logging(level="WARNING", log_format="console")
        db = Database(url, pool_size=2)
        logger = get_logger("bench")
        relay = OutboxRelay(
            database=db, logger=logger, subscribers=[LoggingSubscriber(logger=logger)]
        )
        try:
            async with db.engine.connect():  # connected before the clock starts
                pass
            ready.put(1)
            await asyncio.to_thread(go.wait)
            done.put(await relay.deliver_pending())
        finally:
            await db.close()

    asyncio.run(run())


def drain_in_processes(
    url: str,
    target: Callable[..., None],
    args: tuple[object, ...],
    *,
    relays: int,
    backlog: int,
    around: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> float:
    """``relays`` child processes running ``target(url, *args, ready, go, done)``, released
    together once all are connected; seconds from the release to the last one's report.
    ``around`` wraps exactly that interval (e.g. a CPU sampler)."""
    context = multiprocessing.get_context("spawn")
    ready: Queue[int] = context.Queue()
    done: Queue[int] = context.Queue()
    go = context.Event()
    children = [
        context.Process(target=target, args=(url, *args, ready, go, done)) for _ in range(relays)
    ]
    for child in children:
        child.start()
    try:
        for _ in children:
            ready.get(timeout=60)
        with around():
            started = time.perf_counter()
            go.set()
            delivered = sum(done.get(timeout=600) for _ in children)
            elapsed = time.perf_counter() - started
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    if delivered != backlog:
        raise RuntimeError(f"{relays} relay(s) delivered {delivered} of {backlog} events")
    return elapsed


def _drain(url: str, relays: int, backlog: int) -> float:
    return drain_in_processes(url, _relay_process, (), relays=relays, backlog=backlog)


async def run_relay_bench(*, quick: bool) -> list[BenchResult]:
    backlog = QUICK_BACKLOG if quick else BACKLOG
    one: list[float] = []
    many: list[float] = []
    async with throwaway_postgres() as url:
        migrator.upgrade(url)
        for _ in range(2 if quick else 3):  # 1, N, 1, N...: interleaved, medians compared
            for relays, rates in ((1, one), (RELAYS, many)):
                await _seed(plain_dsn(url), backlog)
                rates.append(backlog / await asyncio.to_thread(_drain, url, relays, backlog))
    note = f"backlog of {backlog:,} events, batches of 100, {len(one)} runs each"
    return [
        BenchResult(
            "relay, one relay",
            median(one),
            None,
            "events/s",
            median(one) / MIN_ONE_RELAY_RATE,
            1.0,
            "higher",
            f"at least {MIN_ONE_RELAY_RATE:,.0f} events/s; {note}",
        ),
        throughput(
            f"relay, {RELAYS} relays vs one",
            median(many),
            median(one),
            "events/s",
            1.0,
            f"a process each; {note}",
        ),
    ]
