"""The benchmark suite: each hot path against the raw limit of the same work, same run.

    make bench                 every benchmark, prints the table, writes bench/results.json
    make bench-check           the same, exits 1 when any line misses its target
    python -m bench --only http --only uow --quick

PostgreSQL from BENCH_DATABASE_URL or 127.0.0.1:5432 (each benchmark creates and drops its own
database). Shared machines are noisy, so only same-run, interleaved ratios mean anything; the
absolute figures are there to read them, and docs/performance.md says how.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.common import BenchResult
from bench.http_reads import run_http_reads_bench
from bench.imports import run_imports_bench
from bench.login_storm import run_login_storm_bench
from bench.nats_relay import run_nats_relay_bench
from bench.relay import run_relay_bench
from bench.relay_lag import run_relay_lag_bench
from bench.scaling import run_scaling_bench
from bench.sqlite_readers import run_sqlite_readers_bench
from bench.unit_of_work import run_unit_of_work_bench
from dashtam.infrastructure.logging.setup import configure_logging

Bench = Callable[..., Awaitable[list[BenchResult]]]
BENCHES: dict[str, Bench] = {
    "uow": run_unit_of_work_bench,
    "http": run_http_reads_bench,
    "imports": run_imports_bench,
    "relay": run_relay_bench,
    "lag": run_relay_lag_bench,
    "nats": run_nats_relay_bench,
    "storm": run_login_storm_bench,
    "sqlite": run_sqlite_readers_bench,
    "scale": run_scaling_bench,
}
RESULTS = Path(__file__).with_name("results.json")


def _run(name: str, bench: Bench, *, quick: bool) -> tuple[list[BenchResult], float]:
    started = time.perf_counter()
    try:
        results = asyncio.run(bench(quick=quick))
    except (OSError, RuntimeError) as exc:  # a broken run is a failed line, not a traceback
        results = [BenchResult(name, 0.0, None, "-", 0.0, 1.0, "higher", f"error: {exc}")]
    return results, time.perf_counter() - started


def _figure(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _table(results: list[BenchResult]) -> str:
    lines = [
        f"{'path':<38} {'ours':>10} {'raw':>10} {'unit':<12} {'ratio':>6} {'target':>7}  ok",
        "-" * 92,
    ]
    for result in results:
        sign = ">=" if result.better == "higher" else "<="
        lines.append(
            f"{result.path:<38} {_figure(result.ours):>10} {_figure(result.raw):>10} "
            f"{result.unit:<12} {result.ratio:>6.2f} {sign}{result.target:>5.2f}  "
            f"{'yes' if result.passed else 'NO'}"
        )
    return "\n".join(lines)


def _machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), help="repeatable")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where the JSON goes")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING", log_format="console")  # figures only, no debug lines

    results: list[BenchResult] = []
    seconds: dict[str, float] = {}
    for name in args.only or list(BENCHES):
        print(f"running {name}...", file=sys.stderr, flush=True)
        found, seconds[name] = _run(name, BENCHES[name], quick=args.quick)
        results += found
    print(_table(results))
    for result in results:
        if result.notes:
            print(f"  {result.path}: {result.notes}")
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "quick": args.quick,
        "seconds": {name: round(value, 1) for name, value in seconds.items()},
        "results": [result.as_json() for result in results],
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    missed = [result.path for result in results if not result.passed]
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
