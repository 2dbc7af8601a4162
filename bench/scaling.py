"""Scale-out on this machine: 1, 2 and 4 API processes, and 1, 2 and 4 relay processes.

API: ``dashtam serve --workers N`` against one seeded PostgreSQL database, 32 keep-alive
clients (bench.loadgen) repeating the authenticated, audited ``GET /transactions?limit=50``.
Each round starts the server, waits for ``/health``, warms it up, measures, stops it; the
worker counts take turns (1, 2, 4, then 2, 4, 1...), and the medians of req/s are compared.
Relays: the same outbox backlog drained by 1, 2 and 4 relay processes (bench.relay's seeding
and relay process; with NATS at BENCH_NATS_URL also bench.nats_relay's), interleaved likewise.

While each measured round runs, a thread samples /proc every SAMPLE_S: the CPU of the server
(or relay) processes, of the PostgreSQL backends of this database, of the other PostgreSQL
processes, of nats-server, of this process (the load generator) and of the whole machine;
the notes give the split in cores (of ``os.cpu_count()``), averaged over the rounds, and the
load average.
Not part of ``make test``: a benchmark, run on demand.

    .venv/bin/python -m bench --only scale [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import nats
import nats.js.errors

from bench import nats_relay, relay
from bench.common import (
    BenchResult,
    free_port,
    median,
    percentile,
    plain_dsn,
    process,
    serve_command,
    server_env,
    throwaway_postgres,
    wait_until_up,
)
from bench.http_reads import CLIENTS, LIST_PATH, load_ok, log_in, seed
from bench.loadgen import Load
from dashtam.core.ids import new_id
from dashtam.infrastructure.events.nats_broker import NatsOptions
from dashtam.infrastructure.persistence import migrator

COUNTS = (1, 2, 4)
SEED_TRANSACTIONS = 2_000
# Per process: a write pool and a read pool of this size. 4 workers x 2 x 10 = 80 connections,
# under PostgreSQL's default max_connections of 100 (the default of 20 would allow 160).
POOL_SIZE = 10
SAMPLE_S = 0.5
TICK = os.sysconf("SC_CLK_TCK")
GROUPS = (
    "dashtam",
    "postgres",
    "other postgres",
    "nats-server",
    "bench process",
    "rest of machine",
)


def _proc_stat(pid: str) -> tuple[int, int] | None:
    """(parent pid, user + system CPU in ticks) of one process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]) - idle, sum(values[:8])


class CpuSampler:
    """Where the machine's CPU went while a round ran, in cores, by GROUPS.

    "dashtam": the descendants of ``server_root`` (the server's pid, or for relays this
    process's: the relays are its children); "bench process": this process (the load
    generator, or for relays the idle coordinator). PostgreSQL backends are told apart by
    their title (``postgres: user db ...``).
    A process that started during the round counts from zero; one that ended, up to its last
    sample (at most SAMPLE_S of its CPU is lost, and shows under "rest of machine").
    """

    def __init__(self, server_root: int, database: str) -> None:
        self._root, self._database, self._me = server_root, database, os.getpid()
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._group: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = (0.0, 0, 0)
        self._wall = 0.0

    def _classify(self, pid: int, parents: dict[int, int]) -> str:
        if pid == self._me:
            return "bench process"
        ancestor: int | None = pid
        while ancestor not in (None, 0, 1):
            if ancestor == self._root:
                return "dashtam"
            ancestor = parents.get(ancestor)
        title = _cmdline(pid)
        if "nats-server" in title:
            return "nats-server"
        if title.startswith("postgres"):
            return "postgres" if f" {self._database} " in title else "other postgres"
        return "rest of machine"

    def _sample(self, *, first: bool) -> None:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (stat := _proc_stat(entry)) is not None:
                stats[int(entry)] = stat
        parents = {pid: parent for pid, (parent, _) in stats.items()}
        for pid, (_, ticks) in stats.items():
            if pid not in self._group:
                self._group[pid] = self._classify(pid, parents)
                self._first[pid] = ticks if first else 0
            self._last[pid] = ticks

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample(first=False)

    def start(self) -> None:
        self._sample(first=True)
        self._started = (time.perf_counter(), *_machine_ticks())
        self._thread.start()

    def per_process(self, group: str) -> list[float]:
        """The cores each process of ``group`` used, most first (after ``stop``)."""
        used = [
            (self._last[pid] - self._first[pid]) / TICK / self._wall
            for pid, which in self._group.items()
            if which == group
        ]
        return sorted((cores for cores in used if cores >= 0.005), reverse=True)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        wall = self._wall = time.perf_counter() - self._started[0]
        busy, total = _machine_ticks()
        cores = os.cpu_count() or 1
        split: dict[str, float] = defaultdict(float)
        for pid, group in self._group.items():
            split[group] += (self._last[pid] - self._first[pid]) / TICK / wall
        machine_busy = (busy - self._started[1]) / max(total - self._started[2], 1) * cores
        ours = sum(used for group, used in split.items() if group != "rest of machine")
        split["rest of machine"] = max(machine_busy - ours, 0.0)  # includes unseen processes
        split["idle"] = max(cores - machine_busy, 0.0)
        return dict(split)


@dataclass(slots=True)
class _Series:
    """The rounds of one process count."""

    rates: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    spread: list[float] = field(default_factory=list)  # cores of each process, last round

    def cost_note(self, unit: str) -> str:
        """CPU per request (ms) or per event (us) in Dashtam and in its PostgreSQL backends."""
        scale, per = (1e3, "ms/request") if unit == "req/s" else (1e6, "us/event")
        rounds = list(zip(self.cpu, self.rates, strict=True))
        costs = [
            f"{group} {median([cpu.get(group, 0.0) / rate for cpu, rate in rounds]) * scale:.2f}"
            for group in ("dashtam", "postgres")
        ]
        return f"CPU {per}: {', '.join(costs)}"

    def cpu_note(self) -> str:
        keys = (*GROUPS, "idle")
        mean = {k: sum(s.get(k, 0.0) for s in self.cpu) / len(self.cpu) for k in keys}
        return ", ".join(f"{k} {mean[k]:.2f}" for k in keys)


def _order(round_: int) -> tuple[int, ...]:
    """1, 2, 4 / 2, 4, 1 / 4, 1, 2: each count in each position once every three rounds."""
    shift = round_ % len(COUNTS)
    return COUNTS[shift:] + COUNTS[:shift]


async def _settled(root: int, workers: int) -> None:
    """Until the server has its ``workers`` processes and none is still busy starting up."""
    deadline = time.monotonic() + 60
    before: dict[int, int] | None = None
    while time.monotonic() < deadline:
        now: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            stat = _proc_stat(entry) if entry.isdigit() else None
            if stat is not None and root in (int(entry), stat[0]):
                now[int(entry)] = stat[1]
        needed = 1 + (workers if workers > 1 else 0)  # the server, and its workers if it forks
        started = before is not None and len(now) >= needed
        if started and all(now[pid] - (before or {}).get(pid, 0) < 0.05 * TICK for pid in now):
            return
        before = now
        await asyncio.sleep(0.5)


async def _api_round(
    url: str, env: dict[str, str], workers: int, token: list[str], seconds: float
) -> tuple[Load, dict[str, float], list[float]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(serve_command(port, workers), env) as server:
        await wait_until_up(base, server, "/health")
        await _settled(server.pid, workers)  # /health answers once the first worker is up
        if not token:
            token.append(await log_in(base))
        await load_ok(base, LIST_PATH, max(seconds / 2, 2.0), token=token[0])  # warm-up
        sampler = CpuSampler(server.pid, urlsplit(url).path.lstrip("/"))
        sampler.start()
        done = await load_ok(base, LIST_PATH, seconds, token=token[0])
        split = sampler.stop()
    return done, split, sampler.per_process("dashtam")


async def _api(rounds: int, seconds: float) -> dict[int, _Series]:
    series = {count: _Series() for count in COUNTS}
    async with throwaway_postgres() as url:
        env = server_env(url, DB_POOL_SIZE=str(POOL_SIZE))
        await seed(env, url, SEED_TRANSACTIONS)
        token: list[str] = []
        for round_ in range(rounds):
            for workers in _order(round_):
                done, split, spread = await _api_round(url, env, workers, token, seconds)
                series[workers].rates.append(done.rate)
                series[workers].latencies += done.latencies
                series[workers].cpu.append(split)
                series[workers].spread = spread
    return series


def _drain(
    url: str, target: Callable[..., None], args: tuple[object, ...], relays: int, backlog: int
) -> tuple[float, dict[str, float]]:
    """bench.relay's drain, with the CPU sampled from the release to the last relay's report."""
    sampler = CpuSampler(os.getpid(), urlsplit(url).path.lstrip("/"))
    split: dict[str, float] = {}

    @contextlib.contextmanager
    def sampled() -> Iterator[None]:
        sampler.start()
        try:
            yield
        finally:
            split.update(sampler.stop())

    elapsed = relay.drain_in_processes(
        url, target, args, relays=relays, backlog=backlog, around=sampled
    )
    return elapsed, split


async def _relays(rounds: int, backlog: int, options: NatsOptions | None) -> dict[int, _Series]:
    series = {count: _Series() for count in COUNTS}
    target: Callable[..., None] = nats_relay._relay_process if options else relay._relay_process
    args: tuple[object, ...] = (options,) if options else ()
    async with throwaway_postgres() as url:
        migrator.upgrade(url)
        for round_ in range(rounds):
            for relays in _order(round_):
                await relay._seed(plain_dsn(url), backlog)
                elapsed, split = await asyncio.to_thread(_drain, url, target, args, relays, backlog)
                series[relays].rates.append(backlog / elapsed)
                series[relays].cpu.append(split)
    return series


def _nats_reachable() -> bool:
    parts = urlsplit(nats_relay.NATS_URL)
    with (
        contextlib.suppress(OSError),
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=1),
    ):
        return True
    return False


async def _with_nats(rounds: int, backlog: int) -> dict[int, _Series]:
    tag = new_id().hex
    options = NatsOptions(
        url=nats_relay.NATS_URL, stream=f"BENCH_{tag}", subject_prefix=f"bench_{tag}.events"
    )
    try:
        return await _relays(rounds, backlog, options)
    finally:
        client = await nats.connect(nats_relay.NATS_URL)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await client.jetstream().delete_stream(options.stream)
        await client.close()


def _lines(label: str, unit: str, series: dict[int, _Series], note: str) -> list[BenchResult]:
    figures = []
    for count, one in series.items():
        figure = f"{count}: {median(one.rates):,.0f} {unit}"
        if one.latencies:
            figure += f" p99 {percentile(one.latencies, 99):.0f} ms"
        if count > 1 and one.spread:  # uvicorn's workers share one socket: is the load even?
            figure += f", cores per worker {'/'.join(f'{c:.2f}' for c in one.spread)}"
        figures.append(f"{figure}, {one.cost_note(unit)} [CPU in cores: {one.cpu_note()}]")
    notes = f"{note}; " + "; ".join(figures)
    extra = {f"{count}x": median(one.rates) for count, one in series.items()}
    return [
        BenchResult(f"scale: {label}, {count} vs 1", median(series[count].rates),
                    median(series[1].rates), unit,
                    median(series[count].rates) / median(series[1].rates), 1.0, "higher",
                    notes, extra)
        for count in COUNTS[1:]
    ]  # fmt: skip


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def run_scaling_bench(*, quick: bool) -> list[BenchResult]:
    rounds, seconds, backlog = (2, 2.0, 5_000) if quick else (3, 4.0, 20_000)
    load_before = _load()
    api = await _api(rounds, seconds)
    load_api = _load()
    relays = await _relays(rounds, backlog, None)
    results = _lines(
        "API processes", "req/s", api,
        f"dashtam serve --workers N, {CLIENTS} clients, {rounds}x{seconds:g} s, "
        f"DB_POOL_SIZE={POOL_SIZE}; load avg {load_before} before, {load_api} after",
    )  # fmt: skip
    results += _lines("relays", "events/s", relays,
                      f"backlog {backlog:,}, {rounds} runs each; load avg {_load()}")  # fmt: skip
    if _nats_reachable():
        brokered = await _with_nats(rounds, backlog)
        note = f"publishing to JetStream, backlog {backlog:,}, {rounds} runs; load avg {_load()}"
        results += _lines("relays + NATS", "events/s", brokered, note)
    return results
