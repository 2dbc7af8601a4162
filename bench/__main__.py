"""Benchmarks: our write path against the raw limit measured in the same run.

    make bench            (PostgreSQL from BENCH_DATABASE_URL or 127.0.0.1:5432)

Prints ratios, never asserts: shared machines are noisy, so only same-run ratios mean anything.
"""

from __future__ import annotations

import asyncio
import os
import sys

from bench.unit_of_work import run_unit_of_work_bench


def main() -> int:
    admin_url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    try:
        asyncio.run(run_unit_of_work_bench(admin_url))
    except OSError as exc:
        print(f"error: PostgreSQL not reachable at {admin_url}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
