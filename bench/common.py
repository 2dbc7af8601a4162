"""What every benchmark shares: the result record, throw-away databases, real processes.

A result compares *ours* with *raw*, the limit of the same work measured in the same run; the
ratio is oriented so that higher is always better for a throughput (ours / raw) and lower is
better for a latency or a size (ours / raw, or ours against an absolute bound when there is
no raw limit), as ``better`` says.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from typing import Literal

import asyncpg
import httpx

from dashtam.core.ids import new_id

CLI = "from dashtam.presentation.cli.main import main; main()"
STARTUP_TIMEOUT_S = 60.0
# A fixed development secret: the bare twin verifies the same access tokens with it.
SECRET_KEY = "bench-secret-key-that-is-long-enough-for-hs256-0123456789"


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One line of the table. ``raw`` is None when the target is an absolute bound."""

    path: str
    ours: float
    raw: float | None
    unit: str
    ratio: float
    target: float
    better: Literal["higher", "lower"]
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        if self.better == "higher":
            return self.ratio >= self.target
        return self.ratio <= self.target

    def as_json(self) -> dict[str, object]:
        return asdict(self) | {"passed": self.passed}


def throughput(
    path: str, ours: float, raw: float, unit: str, target: float, notes: str = ""
) -> BenchResult:
    """Ours against raw where more per second is better (ratio = ours / raw)."""
    return BenchResult(path, ours, raw, unit, ours / raw if raw else 0.0, target, "higher", notes)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], cut: int) -> float:
    """The ``cut``-th percentile (inclusive method: never beyond the largest value)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def admin_url() -> str:
    return os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )


def plain_dsn(url: str) -> str:
    """The asyncpg form of a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def throwaway_postgres(prefix: str = "dashtam_bench") -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database (SQLAlchemy URL), dropped on the way out."""
    root = admin_url()
    admin = await asyncpg.connect(plain_dsn(root), timeout=5)
    name = f"{prefix}_{new_id().hex}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield root.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a ``dashtam`` process against this database, logs quiet."""
    return (
        os.environ
        | {
            "DATABASE_URL": database_url,
            "DASHTAM_ENV": "development",
            "DASHTAM_SECRET_KEY": SECRET_KEY,
            "LOG_LEVEL": "WARNING",
            "EVENT_BROKER_URL": "",
            "DASHTAM_IMPORT_MAX_BYTES": str(64 * 1024 * 1024),
        }
        | extra
    )


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 600) -> str:
    """One ``dashtam`` command to completion, as an operator runs it; its stdout."""
    completed = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dashtam {args[0]} failed: {completed.stderr.strip()[-2000:]}")
    return completed.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (a server); always stopped, then killed if it lingers."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
        if child.stderr is not None:
            child.stderr.close()


def serve_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        CLI,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


async def wait_until_up(base_url: str, child: subprocess.Popen[bytes], path: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        while time.monotonic() < deadline:
            if child.poll() is not None:
                stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
                raise RuntimeError(f"server exited with {child.returncode}: {stderr[-1500:]}")
            try:
                if (await client.get(path)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{base_url} did not answer within {STARTUP_TIMEOUT_S:.0f} s")
