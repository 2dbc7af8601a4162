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

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.infrastructure.events.relay import OutboxRelay
from dashtam.infrastructure.events.subscribers import LoggingSubscriber
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database

BACKLOG = 20_000
RELAYS = 3


async def _seed(dsn: str) -> None:
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
        for index in range(BACKLOG)
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


async def _drain(url: str, relays: int) -> float:
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
    if sum(delivered) != BACKLOG:
        raise RuntimeError(f"{relays} relay(s) delivered {sum(delivered)} of {BACKLOG} events")
    return elapsed


async def run_relay_bench(admin_url: str) -> None:
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = f"dashtam_bench_{new_id().hex}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    db_dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        migrator.upgrade(url)
        timings: dict[int, float] = {}
        for relays in (1, RELAYS, 1, RELAYS):  # twice each, interleaved; the best run counts
            await _seed(db_dsn)
            elapsed = await _drain(url, relays)
            timings[relays] = min(timings.get(relays, elapsed), elapsed)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    one, many = timings[1], timings[RELAYS]
    print(f"outbox relay, backlog of {BACKLOG} events, batches of 100")
    print(f"  1 relay     : {BACKLOG / one:8.0f} events/s")
    print(f"  {RELAYS} relays    : {BACKLOG / many:8.0f} events/s")
    print(f"  ratio       : {one / many:8.2f}x the throughput of one relay")
