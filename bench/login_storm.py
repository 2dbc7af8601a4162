"""Does hashing stay off the event loop? ``/health`` latency idle vs. during a log-in storm.

Starts the real server (``dashtam serve``) on a free loopback port against a throw-away
database, measures GET /health alone, then again while 32 clients log in over and over
(argon2id with the production parameters on every attempt). If a hash ran on the event loop,
every /health request would queue behind it and the p99 would grow by whole hash times.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import argon2
import asyncpg
import httpx

from bench.common import BenchResult, admin_url
from dashtam.core.ids import new_id
from dashtam.infrastructure.security.password_hasher import (
    OWASP_MEMORY_COST_KIB,
    OWASP_PARALLELISM,
    OWASP_TIME_COST,
)

PROBES = 300
WARM_UP = 20
STORM_CLIENTS = 32
MAX_LOGINS_PER_CLIENT = 200  # a bound, whatever the machine's speed
STARTUP_TIMEOUT_S = 30.0
EMAIL = "storm@bench.example"
PASSWORD = "a benchmark passphrase that is long"
_CLI = "from dashtam.presentation.cli.main import main; main()"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _dashtam(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    """Run one ``dashtam`` command to completion, as an operator would."""
    completed = subprocess.run(
        [sys.executable, "-c", _CLI, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dashtam {' '.join(args)} failed: {completed.stderr.strip()}")


@asynccontextmanager
async def _throwaway_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL database when the server is reachable, else an SQLite file."""
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    try:
        admin = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError):
        with tempfile.TemporaryDirectory(prefix="dashtam-storm-") as directory:
            yield f"sqlite+aiosqlite:///{Path(directory) / 'storm.db'}"
        return
    name = f"dashtam_storm_{new_id().hex}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@contextmanager
def _server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``dashtam serve`` in a child process; always stopped (then killed if it lingers)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def _wait_until_up(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} during start-up")
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not answer /health within {STARTUP_TIMEOUT_S:.0f} s")


async def _probe(client: httpx.AsyncClient, count: int) -> list[float]:
    """Latencies (ms) of ``count`` sequential GET /health."""
    latencies: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        response = await client.get("/health")
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"/health answered {response.status_code}")
    return latencies


def _storm_email(index: int) -> str:
    return f"storm{index}@bench.example"


async def _register_storm_users(client: httpx.AsyncClient) -> None:
    """One account per client: parallel log-ins to one account are throttled by design
    (each attempt counts as failed until its password checks out)."""
    for index in range(STORM_CLIENTS):
        response = await client.post(
            "/api/v1/users", json={"email": _storm_email(index), "password": PASSWORD}
        )
        if response.status_code != 201:
            raise RuntimeError(f"registering a storm user answered {response.status_code}")


async def _log_in_repeatedly(
    client: httpx.AsyncClient, stop: asyncio.Event, email: str
) -> list[int]:
    statuses: list[int] = []
    for _ in range(MAX_LOGINS_PER_CLIENT):
        if stop.is_set():
            break
        response = await client.post(
            "/api/v1/sessions", json={"email": email, "password": PASSWORD}
        )
        statuses.append(response.status_code)
    return statuses


def _one_hash_ms() -> float:
    """How long one argon2id verification with the production parameters takes, unloaded."""
    hasher = argon2.PasswordHasher(
        time_cost=OWASP_TIME_COST,
        memory_cost=OWASP_MEMORY_COST_KIB,
        parallelism=OWASP_PARALLELISM,
        type=argon2.Type.ID,
    )
    stored = hasher.hash(PASSWORD)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[98]


async def _measure(
    base_url: str, process: subprocess.Popen[bytes], probes: int
) -> tuple[list[float], list[float], list[int], float]:
    """(idle latencies, storm latencies, log-in statuses, seconds the storm was probed)."""
    limits = httpx.Limits(max_connections=STORM_CLIENTS, max_keepalive_connections=STORM_CLIENTS)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=30) as prober,
        httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as storm,
    ):
        await _wait_until_up(prober, process)
        await _register_storm_users(prober)
        await _probe(prober, WARM_UP)
        idle = await _probe(prober, probes)

        stop = asyncio.Event()
        workers = [
            asyncio.create_task(_log_in_repeatedly(storm, stop, _storm_email(index)))
            for index in range(STORM_CLIENTS)
        ]
        await asyncio.sleep(0.5)  # let the storm build up before probing
        started = time.perf_counter()
        try:
            loaded = await _probe(prober, probes)
        finally:
            stop.set()
            results = await asyncio.gather(*workers)
        elapsed = time.perf_counter() - started
    return idle, loaded, [status for result in results for status in result], elapsed


async def run_login_storm_bench(*, quick: bool) -> list[BenchResult]:
    probes = PROBES // 2 if quick else PROBES
    async with _throwaway_database(admin_url()) as database_url:
        env = os.environ | {
            "DATABASE_URL": database_url,
            "DASHTAM_ENV": "development",
            "LOG_LEVEL": "WARNING",
            "EVENT_BROKER_URL": "",
        }
        await asyncio.to_thread(_dashtam, env, "db", "upgrade", "--url", database_url)
        await asyncio.to_thread(
            _dashtam, env, "users", "create-admin", "--email", EMAIL, "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        hash_ms = await asyncio.to_thread(_one_hash_ms)
        engine = database_url.split(":", 1)[0].split("+", 1)[0]
        port = _free_port()
        with _server(env, port) as process:
            idle, loaded, statuses, elapsed = await _measure(
                f"http://127.0.0.1:{port}", process, probes
            )
    succeeded = sum(1 for status in statuses if status == 201)
    if succeeded != len(statuses):
        others = sorted({status for status in statuses if status != 201})
        raise RuntimeError(f"{len(statuses) - succeeded} log-ins answered {others}")
    idle_p99, storm_p99 = _percentiles(idle)[1], _percentiles(loaded)[1]
    # Were a hash on the event loop, /health would wait behind a queue of 32 such hashes.
    note = (
        f"{probes} probes each, {engine}; {succeeded / elapsed:.0f} log-ins/s during the storm; "
        f"one argon2id hash {hash_ms:.0f} ms (storm p99 = {storm_p99 / hash_ms:.1f} hashes)"
    )
    return [
        BenchResult("/health p99, log-in storm vs idle", storm_p99, idle_p99, "ms",
                    storm_p99 / idle_p99, 3.0, "lower", note)
    ]  # fmt: skip
