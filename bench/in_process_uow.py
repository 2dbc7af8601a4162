"""CPU (or instructions) per audited write, ours and raw asyncpg's, in one process, one at a time.

    .venv/bin/python -m bench.in_process_uow [--use-cases 200] [--rounds 3]
    valgrind --tool=callgrind --cache-sim=no --callgrind-out-file=/tmp/cg.%p \\
        .venv/bin/python -m bench.in_process_uow --callgrind      (instructions per window)

The two sides of bench/unit_of_work.py (the same functions), sequential instead of eight at a
time, taking turns in windows after a warm-up, on pools of 2: what each use case costs the
client process, without the scheduling noise of a shared machine. With ``--callgrind`` the
counters are zeroed before each window and dumped after it (``callgrind_control``); the dump's
total divided by the use cases is the figure.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg

from bench.common import plain_dsn, throwaway_postgres
from bench.in_process import _callgrind
from bench.unit_of_work import _ours, _raw
from dashtam.infrastructure.logging.setup import configure_logging
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database

WARM_UP = 50


async def window(
    work: Callable[[int], Awaitable[None]], first: int, count: int, *, label: str, callgrind: bool
) -> float:
    """CPU milliseconds per use case over ``count`` sequential use cases."""
    if callgrind:
        _callgrind("-z")
    started = time.process_time()
    for index in range(first, first + count):
        await work(index)
    spent = time.process_time() - started
    if callgrind:
        _callgrind("-d", label)
    return spent / count * 1000


async def run(*, use_cases: int, rounds: int, callgrind: bool) -> None:
    async with throwaway_postgres("dashtam_inproc_uow") as url:
        migrator.upgrade(url)
        database = Database(url, pool_size=2)
        pool = await asyncpg.create_pool(plain_dsn(url), min_size=1, max_size=2)
        sides: dict[str, Callable[[int], Awaitable[None]]] = {
            "raw": lambda index: _raw(pool, index),
            "ours": lambda index: _ours(database, index),
        }
        figures: dict[str, list[float]] = {name: [] for name in sides}
        try:
            for work in sides.values():
                for index in range(WARM_UP):
                    await work(10**8 + index)
            for round_ in range(rounds):
                for offset, (name, work) in enumerate(sides.items()):
                    first = (round_ * len(sides) + offset + 1) * use_cases
                    figures[name].append(
                        await window(
                            work, first, use_cases, label=f"{name}{round_}", callgrind=callgrind
                        )
                    )
        finally:
            await pool.close()
            await database.close()
        for name, values in figures.items():
            print(f"{name:5} {statistics.median(values):7.3f} ms CPU/use case "
                  f"(min {min(values):.3f}, {rounds} windows of {use_cases})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.in_process_uow")
    parser.add_argument("--use-cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true", help="zero/dump around windows")
    args = parser.parse_args()
    configure_logging(level="WARNING", log_format="console")  # figures only, no debug lines
    asyncio.run(run(use_cases=args.use_cases, rounds=args.rounds, callgrind=args.callgrind))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
