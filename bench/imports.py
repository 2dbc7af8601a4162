"""File import end to end through the CLI (``dashtam import``) against COPY of the same rows.

Per format (OFX 1.x SGML, Chase CSV) and round, interleaved: a fresh import by a new user
(a child process: its wall time and the peak RSS it reports at exit), COPY of exactly the rows that
import stored (read back, given new ids and a twin account) into ``transactions``, then the
re-import of the same file into the same connection. ``BENCH_IMPORT_ROWS`` sets the size
(100,000 by default, 10,000 with ``--quick``). The CLI's time includes its start-up
(about a second): that is what an operator waits for.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg

from bench.common import (
    CLI,
    BenchResult,
    median,
    plain_dsn,
    run_cli,
    server_env,
    throughput,
    throwaway_postgres,
)
from bench.data import PASSWORD, write_csv, write_ofx
from dashtam.core.ids import new_id

FULL_SIZE = 100_000
QUICK_SIZE = 10_000
RSS_LIMIT_MB = 250.0
_CONNECTION = re.compile(r"connection: ([0-9a-f-]{36})")


@dataclass(frozen=True, slots=True)
class _Run:
    seconds: float
    peak_rss_mb: float
    stdout: str


# The child reports its own peak RSS at exit: VmHWM of the memory it has after exec. wait4's
# ru_maxrss would also count the bench's memory that the child held between fork and exec
# (Linux folds the pre-exec high-water mark in), i.e. the rows the bench just read for COPY.
_MEASURED_CLI = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('\\nbench-peak-rss-kb ' + line.split()[1] + '\\n')\n"
    "atexit.register(_peak)\n" + CLI
)
_PEAK = re.compile(r"bench-peak-rss-kb (\d+)")


def _import(env: dict[str, str], file: Path, email: str, *extra: str) -> _Run:
    """``dashtam import`` in a child process, timed; its peak RSS as it reports it at exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _MEASURED_CLI, "import", str(file), "--user", email, *extra],
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        errors = err.read().decode()
        if child.returncode != 0:
            raise RuntimeError(f"dashtam import {file.name}: {errors[-1500:]}")
        reported = _PEAK.search(errors)
        peak_kb = int(reported.group(1)) if reported else usage.ru_maxrss
        return _Run(seconds, peak_kb / 1024, out.read().decode())


async def _copy_same_rows(dsn: str, connection_id: UUID) -> tuple[float, int]:
    """COPY the rows the import stored, under new ids, into a twin of its account."""
    db = await asyncpg.connect(dsn)
    try:
        account = await db.fetchrow(
            "SELECT * FROM accounts WHERE connection_id = $1 LIMIT 1", connection_id
        )
        if account is None:
            raise RuntimeError("the import stored no account")
        twin = dict(account) | {"id": new_id(), "provider_account_id": f"twin-{new_id().hex[:20]}"}
        await db.copy_records_to_table(
            "accounts", records=[tuple(twin.values())], columns=list(twin)
        )
        stored = await db.fetch("SELECT * FROM transactions WHERE account_id = $1", account["id"])
        columns = list(stored[0].keys())
        at_id, at_account = columns.index("id"), columns.index("account_id")
        records = []
        for row in stored:
            values = list(row.values())
            values[at_id], values[at_account] = new_id(), twin["id"]
            records.append(tuple(values))
        started = time.perf_counter()
        await db.copy_records_to_table("transactions", records=records, columns=columns)
        return time.perf_counter() - started, len(records)
    finally:
        await db.close()


async def _one_format(
    url: str, env: dict[str, str], file: Path, fmt: str, rounds: int
) -> list[BenchResult]:
    extra = ("--preset", "chase-checking") if fmt == "CSV" else ()
    fresh: list[_Run] = []
    again: list[_Run] = []
    copies: list[float] = []
    stored = 0
    for index in range(rounds):
        email = f"import-{fmt.lower()}-{index}@bench.example"
        await asyncio.to_thread(
            run_cli,
            env,
            "users",
            "create-admin",
            "--email",
            email,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        first = await asyncio.to_thread(_import, env, file, email, *extra)
        found = _CONNECTION.search(first.stdout)
        if found is None:
            raise RuntimeError(f"no connection id in the import's output: {first.stdout[-300:]}")
        copy_s, stored = await _copy_same_rows(plain_dsn(url), UUID(found.group(1)))
        repeat = await asyncio.to_thread(
            _import, env, file, email, "--connection", found.group(1), *extra
        )
        fresh.append(first)
        again.append(repeat)
        copies.append(copy_s)
    copy_rate = stored / median(copies)
    fresh_rate = stored / median([run.seconds for run in fresh])
    again_rate = stored / median([run.seconds for run in again])
    peak = max(run.peak_rss_mb for run in fresh + again)
    megabytes = (await asyncio.to_thread(file.stat)).st_size / 1e6
    size = f"{stored:,} rows, {megabytes:.1f} MB, {rounds} round(s)"
    return [
        throughput(f"import {fmt} (fresh)", fresh_rate, copy_rate, "rows/s", 0.25, size),
        throughput(f"import {fmt} (re-import)", again_rate, copy_rate, "rows/s", 0.50, size),
        BenchResult(
            f"import {fmt} peak RSS",
            peak,
            None,
            "MB",
            peak / RSS_LIMIT_MB,
            1.0,
            "lower",
            f"limit {RSS_LIMIT_MB:.0f} MB (fresh and re-import)",
        ),
    ]


async def run_imports_bench(*, quick: bool) -> list[BenchResult]:
    # BENCH_IMPORT_ROWS: a smaller statement while a 100k import takes minutes.
    size = int(os.environ.get("BENCH_IMPORT_ROWS", QUICK_SIZE if quick else FULL_SIZE))
    # Three rounds, the medians compared: with one, a burst of the machine's other work during
    # either side moved the ratio by a third (OFX fresh 0.18 in one full run, 0.245 right after).
    rounds = 2 if quick else 3
    results: list[BenchResult] = []
    with tempfile.TemporaryDirectory(prefix="dashtam-bench-") as folder:
        files = {
            "OFX": write_ofx(Path(folder) / "statement.ofx", size),
            "CSV": write_csv(Path(folder) / "statement.csv", size),
        }
        async with throwaway_postgres() as url:
            env = server_env(url)
            await asyncio.to_thread(run_cli, env, "db", "upgrade", "--url", url)
            for fmt, file in files.items():
                results += await _one_format(url, env, file, fmt, rounds)
    return results
