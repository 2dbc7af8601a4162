"""SQLite under 32 concurrent readers: every read answers 200 (no 409), p99 under 250 ms.

``dashtam serve`` (one worker) on an SQLite file holding one user's imported statement; 32
clients repeat ``GET /api/v1/transactions?limit=50`` for a while. Every read is audited, so
readers also write: the test is that those writes never make a read fail or queue for long.
There is no raw twin here (the bare app speaks asyncpg): the bound is absolute.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import (
    BenchResult,
    free_port,
    percentile,
    process,
    serve_command,
    server_env,
    wait_until_up,
)
from bench.http_reads import CLIENTS, LIST_PATH, SEED_TRANSACTIONS, load, log_in, seed

P99_LIMIT_MS = 250.0


async def run_sqlite_readers_bench(*, quick: bool) -> list[BenchResult]:
    seconds = 5.0 if quick else 15.0
    with tempfile.TemporaryDirectory(prefix="dashtam-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        env = server_env(url)
        await seed(env, url, SEED_TRANSACTIONS)
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with process(serve_command(port, 1), env) as server:
            await wait_until_up(base_url, server, "/health")
            token = await log_in(base_url)
            await load(base_url, LIST_PATH, 1.0, token=token)  # warm-up, not counted
            done = await load(base_url, LIST_PATH, seconds, token=token)
    p99 = percentile(done.latencies, 99)
    failed = sum(done.failures.values())
    answers = len(done.latencies)
    note = (
        f"{CLIENTS} clients, {seconds:g} s, {answers} reads at {done.rate:.0f}/s, "
        f"p50 {percentile(done.latencies, 50):.0f} ms; non-200: {done.failures or 'none'}; "
        f"client CPU {done.client_cpu:.0%} of a core"
    )
    return [
        BenchResult(
            "SQLite 32 readers, p99", p99, None, "ms", p99 / P99_LIMIT_MS, 1.0, "lower", note
        ),
        BenchResult(
            "SQLite 32 readers, 409s", float(done.failures.get(409, 0)), None, "answers",
            float(failed), 0.0, "lower", "any non-200 answer to a read fails this line",
        ),
    ]  # fmt: skip
