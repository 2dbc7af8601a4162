"""Authenticated, audited reads over HTTP against the bare FastAPI + asyncpg twin.

Both servers are real uvicorn processes on loopback with the same settings (workers, no access
log, proxy headers), against the same PostgreSQL database holding one user's imported
statement. Before measuring, each route's body from Dashtam and from the twin must be the same
bytes. Then 32 keep-alive connections (bench.loadgen, pre-built requests; httpx only sets up)
hammer one server for a round, then the other, interleaved, several rounds each; the medians of
req/s are compared. The load generator's CPU is noted: httpx needed most of a core and capped
the twin, this one needs a few percent.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import (
    BenchResult,
    free_port,
    median,
    percentile,
    plain_dsn,
    process,
    run_cli,
    serve_command,
    server_env,
    throughput,
    throwaway_postgres,
    wait_until_up,
)
from bench.data import EMAIL, PASSWORD, write_ofx
from bench.loadgen import Load, hammer, request_bytes

CLIENTS = 32
SEED_TRANSACTIONS = 2_000
LIST_PATH = "/api/v1/transactions?limit=50"
MIN_LIST_RPS_TWO_WORKERS = 600.0
# One lean client process uses well under a tenth of a core here; more only for faster servers.
CLIENT_PROCESSES = int(os.environ.get("BENCH_CLIENT_PROCESSES", "1"))


@dataclass(frozen=True, slots=True)
class _Servers:
    ours: str
    bare: str
    token: str
    account_path: str
    ours_pid: int


async def load(base_url: str, path: str, seconds: float, *, token: str) -> Load:
    """CLIENTS keep-alive connections repeating GET ``path`` for ``seconds`` (bench.loadgen:
    the client costs tens of microseconds of CPU per request, not milliseconds like httpx)."""
    request = request_bytes("GET", base_url + path, headers={"Authorization": f"Bearer {token}"})
    return await hammer(
        base_url, [request], clients=CLIENTS, seconds=seconds, processes=CLIENT_PROCESSES
    )


async def load_ok(base_url: str, path: str, seconds: float, *, token: str) -> Load:
    """``load``, refusing to count a run where any answer was not 200."""
    done = await load(base_url, path, seconds, token=token)
    if done.failures:
        raise RuntimeError(f"GET {path} answered {done.failures} under load")
    return done


async def log_in(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        response = await http.post("/api/v1/sessions", json={"email": EMAIL, "password": PASSWORD})
        if response.status_code != 201:
            raise RuntimeError(f"log-in answered {response.status_code}: {response.text[:300]}")
        token: str = response.json()["access_token"]
        return token


async def seed(env: dict[str, str], url: str, transactions: int) -> None:
    """A migrated database with one user and one imported statement."""
    await asyncio.to_thread(run_cli, env, "db", "upgrade", "--url", url)
    await asyncio.to_thread(
        run_cli,
        env,
        "users",
        "create-admin",
        "--email",
        EMAIL,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    with tempfile.TemporaryDirectory(prefix="dashtam-bench-") as folder:
        file = write_ofx(Path(folder) / "seed.ofx", transactions)
        await asyncio.to_thread(run_cli, env, "import", str(file), "--user", EMAIL)


async def _same_bytes(servers: _Servers) -> None:
    headers = {"Authorization": f"Bearer {servers.token}"}
    async with httpx.AsyncClient(timeout=30) as http:
        for path in (LIST_PATH, servers.account_path):
            ours = await http.get(servers.ours + path, headers=headers)
            bare = await http.get(servers.bare + path, headers=headers)
            if ours.status_code != 200 or ours.content != bare.content:
                raise RuntimeError(
                    f"GET {path}: the twin's body differs from Dashtam's "
                    f"({ours.status_code}: {ours.content[:200]!r} vs {bare.content[:200]!r})"
                )


@asynccontextmanager
async def servers(url: str, env: dict[str, str], workers: int) -> AsyncIterator[_Servers]:
    ours_port, bare_port = free_port(), free_port()
    bare_env = env | {"BARE_DATABASE_URL": plain_dsn(url)}
    bare_command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(bare_port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--proxy-headers",
        "--log-level",
        "warning",
    ]
    async with AsyncExitStack() as stack:
        ours = stack.enter_context(process(serve_command(ours_port, workers), env))
        bare = stack.enter_context(process(bare_command, bare_env))
        ours_url, bare_url = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{bare_port}"
        await wait_until_up(ours_url, ours, "/health")
        await wait_until_up(bare_url, bare, "/health")
        token = await log_in(ours_url)
        async with httpx.AsyncClient(base_url=ours_url, timeout=30) as http:
            listed = await http.get(
                "/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}
            )
        account_path = f"/api/v1/accounts/{listed.json()['items'][0]['id']}"
        found = _Servers(ours_url, bare_url, token, account_path, ours.pid)
        await _same_bytes(found)
        yield found


@dataclass(slots=True)
class _Rounds:
    ours: list[float] = field(default_factory=list)  # req/s per round
    bare: list[float] = field(default_factory=list)
    ours_latencies: list[float] = field(default_factory=list)
    bare_client_cpu: list[float] = field(default_factory=list)  # cores, summed over processes
    bare_client_us: list[float] = field(default_factory=list)  # client CPU per request


async def _interleaved(found: _Servers, path: str, rounds: int, seconds: float) -> _Rounds:
    """Rounds of ours then bare, each on fresh keep-alive connections after a warm-up."""
    measured = _Rounds()
    ours = await load_ok(found.ours, path, seconds / 2, token=found.token)  # warm-up: caches
    bare = await load_ok(found.bare, path, seconds / 2, token=found.token)
    if ours.sample != bare.sample:  # what the load generator read, not only what httpx did
        raise RuntimeError(f"GET {path}: the twin's body differs from Dashtam's under load")
    for _ in range(rounds):
        done = await load_ok(found.ours, path, seconds, token=found.token)
        measured.ours.append(done.rate)
        measured.ours_latencies += done.latencies
        done = await load_ok(found.bare, path, seconds, token=found.token)
        measured.bare.append(done.rate)
        measured.bare_client_cpu.append(done.client_cpu)
        measured.bare_client_us.append(done.cpu_us_per_request)
    return measured


async def run_http_reads_bench(*, quick: bool) -> list[BenchResult]:
    rounds, seconds = (2, 1.5) if quick else (3, 3.0)
    results: list[BenchResult] = []
    async with throwaway_postgres() as url:
        env = server_env(url)
        await seed(env, url, SEED_TRANSACTIONS)
        for workers in (1, 2):
            async with servers(url, env, workers) as found:
                for name, path, target in (
                    ("list /transactions?limit=50", LIST_PATH, 0.40),
                    ("PK /accounts/{id}", found.account_path, 0.40),
                ):
                    measured = await _interleaved(found, path, rounds, seconds)
                    # A load generator near 100% of a core caps the twin: the ratio flatters us.
                    note = (
                        f"{workers} worker(s), {CLIENTS} clients, {rounds}x{seconds:g} s each; "
                        f"ours p99 {percentile(measured.ours_latencies, 99):.0f} ms; client CPU "
                        f"in twin rounds {median(measured.bare_client_cpu):.0%} of a core "
                        f"({median(measured.bare_client_us):.0f} us/request)"
                    )
                    rate, twin = median(measured.ours), median(measured.bare)
                    results.append(
                        throughput(f"{name}, {workers}w", rate, twin, "req/s", target, note)
                    )
    two_workers = next(r for r in results if r.path.startswith("list") and r.path.endswith("2w"))
    results.append(
        BenchResult(
            "list /transactions, 2w, absolute",
            two_workers.ours,
            None,
            "req/s",
            two_workers.ours / MIN_LIST_RPS_TWO_WORKERS,
            1.0,
            "higher",
            f"at least {MIN_LIST_RPS_TWO_WORKERS:.0f} req/s on PostgreSQL",
        )
    )
    return results
