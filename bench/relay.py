"""Draining an outbox backlog: events/s delivered by one relay against three side by side.

Each relay has its own ``Database`` (its own pool and connections), as separate processes
would; they share this process's event loop. The backlog is re-seeded before each run.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import asyncpg

from bench.common import BenchResult, median, plain_dsn, throughput, throwaway_postgres
from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.events.subscribers import LoggingSubscriber
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database

BACKLOG = 20_000
QUICK_BACKLOG = 5_000
MIN_ONE_RELAY_RATE = 2_000.0
RELAYS = 3


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


async def _drain(url: str, relays: int, backlog: int) -> float:
    databases = [Database(url, pool_size=2) for _ in range(relays)]
    logger = get_logger("bench")
    workers = [
        OutboxRelay(database=db, logger=logger, subscribers=[LoggingSubscriber(logger=logger)])
        for db in databases
    ]
    try:
        started = time.perf_counter()
        delivered = await asyncio.gather(*(relay.deliver_pending() for relay in workers))
        elapsed = time.perf_counter() - started
    finally:
        for db in databases:
            await db.close()
    if sum(delivered) != backlog:
        raise RuntimeError(f"{relays} relay(s) delivered {sum(delivered)} of {backlog} events")
    return elapsed


async def run_relay_bench(*, quick: bool) -> list[BenchResult]:
    backlog = QUICK_BACKLOG if quick else BACKLOG
    one: list[float] = []
    many: list[float] = []
    async with throwaway_postgres() as url:
        migrator.upgrade(url)
        for _ in range(2 if quick else 3):  # 1, N, 1, N...: interleaved, medians compared
            for relays, rates in ((1, one), (RELAYS, many)):
                await _seed(plain_dsn(url), backlog)
                rates.append(backlog / await _drain(url, relays, backlog))
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
            f"same process, a pool each; {note}",
        ),
    ]
