"""Benchmarks: each compares against a baseline measured in the same run.

    make bench            (PostgreSQL from BENCH_DATABASE_URL or 127.0.0.1:5432)

- unit of work: our write path against raw asyncpg;
- log-in storm: /health latency while 32 clients log in, against /health idle;
- outbox relay: events/s draining a backlog with three relays, against one.

Prints ratios, never asserts: shared machines are noisy, so only same-run ratios mean anything.
"""

from __future__ import annotations

import asyncio
import os
import sys

from bench.login_storm import run_login_storm_bench
from bench.relay import run_relay_bench
from bench.unit_of_work import run_unit_of_work_bench
from dashtam.infrastructure.logging.setup import configure_logging


def main() -> int:
    configure_logging(level="WARNING", log_format="console")  # figures only, no debug lines
    admin_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    try:
        asyncio.run(run_unit_of_work_bench(admin_url))
    except OSError as exc:
        print(f"error: PostgreSQL not reachable at {admin_url}: {exc}", file=sys.stderr)
        return 1
    print()
    try:
        asyncio.run(run_login_storm_bench(admin_url))
    except RuntimeError as exc:
        print(f"error: log-in storm: {exc}", file=sys.stderr)
        return 1
    print()
    try:
        asyncio.run(run_relay_bench(admin_url))
    except RuntimeError as exc:
        print(f"error: outbox relay: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
