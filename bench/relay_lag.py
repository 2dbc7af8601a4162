"""End-to-end lag of events at a steady 500 events/s through ``dashtam events relay``.

A producer commits outbox rows at the target rate (a batch every 100 ms, each row stamped
with its commit time); one ``dashtam events relay`` process, with its default poll interval,
delivers them. Lag is ``delivered_at - created_at`` per event, read back from the outbox when
every event is delivered; the target is a p99 under one second.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import asyncpg

from bench.common import (
    CLI,
    BenchResult,
    percentile,
    plain_dsn,
    process,
    server_env,
    throwaway_postgres,
)
from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.infrastructure.persistence import migrator

RATE = 500
TICK_S = 0.1
P99_LIMIT_S = 1.0
DRAIN_TIMEOUT_S = 60.0
_COLUMNS = ["id", "created_at", "event_type", "occurred_at", "payload", "attempts"]


async def _produce(connection: asyncpg.Connection, seconds: float) -> int:
    """Commit RATE events per second, in ticks; returns how many were committed."""
    per_tick = int(RATE * TICK_S)
    ticks = int(seconds / TICK_S)
    started = time.perf_counter()
    for tick in range(ticks):
        now = utcnow()
        records = [
            (new_id(), now, "UserRegistered", now,
             json.dumps({"user_id": str(new_id()), "email": f"lag{tick}-{i}@bench.example"}), 0)
            for i in range(per_tick)
        ]  # fmt: skip
        await connection.copy_records_to_table("event_outbox", records=records, columns=_COLUMNS)
        # Sleep to the next tick's start, so that slow ticks do not lower the rate.
        await asyncio.sleep(max(0.0, started + (tick + 1) * TICK_S - time.perf_counter()))
    return ticks * per_tick


async def _wait_delivered(connection: asyncpg.Connection, total: int) -> list[float]:
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        done = await connection.fetchval(
            "SELECT count(*) FROM event_outbox WHERE delivered_at IS NOT NULL"
        )
        if done >= total:
            rows = await connection.fetch(
                "SELECT EXTRACT(EPOCH FROM delivered_at - created_at)::float8 AS lag"
                " FROM event_outbox"
            )
            return [row["lag"] for row in rows]
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the relay delivered {done} of {total} events in {DRAIN_TIMEOUT_S} s")


async def run_relay_lag_bench(*, quick: bool) -> list[BenchResult]:
    seconds = 5.0 if quick else 15.0
    async with throwaway_postgres() as url:
        migrator.upgrade(url)
        command = [sys.executable, "-c", CLI, "events", "relay"]
        connection = await asyncpg.connect(plain_dsn(url))
        try:
            with process(command, server_env(url)):
                await asyncio.sleep(3.0)  # the relay's start-up, before the clock matters
                total = await _produce(connection, seconds)
                lags = await _wait_delivered(connection, total)
        finally:
            await connection.close()
    p99 = percentile(lags, 99)
    note = (
        f"{total:,} events at {RATE}/s for {seconds:g} s, one relay, default poll interval; "
        f"p50 {percentile(lags, 50):.2f} s, max {max(lags):.2f} s"
    )
    return [
        BenchResult(
            "relay lag p99 at 500 events/s", p99, None, "s", p99 / P99_LIMIT_S, 1.0,
            "lower", note,
        )
    ]  # fmt: skip
