"""Stress fixtures: one running stack (database, ``dashtam serve``, a relay) per backend."""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from dashtam.core.config import Settings
from tests.databases import PostgresServer
from tests.stress.invariants import check_writes, drain, file_sizes_from, snapshot
from tests.stress.load import WRITES, Load, Record
from tests.stress.processes import TIMEOUTS, Stack, postgres_stack, sqlite_stack, started
from tests.stress.report import NOTES, RESULTS, PhaseResult, summary

WARMUP = 3.0
AFTER_FAULT = 6.0
DRAIN_TIMEOUT = 60.0
READY_AFTER_FAULT = 30.0


def latency_bound() -> float:
    """Seconds any response may take under a fault, from the timeouts the processes run with.

    A request may wait for the pool, then to connect, then on one statement (the client-side
    command timeout on PostgreSQL, the busy timeout on SQLite); half as much again for
    rolling back and answering.
    """
    settings = Settings(**TIMEOUTS)  # type: ignore[arg-type]
    statement = max(
        getattr(settings, "db_command_timeout", 0.0), settings.db_sqlite_busy_timeout_ms / 1000
    )
    waits = getattr(settings, "db_pool_timeout", 0.0) + getattr(settings, "db_connect_timeout", 0.0)
    return 1.5 * (waits + statement) + 3.0


@pytest.fixture(scope="session")
def bound() -> float:
    return latency_bound()


@pytest.fixture(scope="session")
def stress_root() -> Path:
    """Kept after the run (logs of every process), outside pytest's rotating temp dirs."""
    root = Path(tempfile.mkdtemp(prefix="dashtam-stress-"))
    NOTES.append(f"process logs: {root}")
    return root


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack(request: pytest.FixtureRequest, stress_root: Path) -> Iterator[Stack]:
    workdir = stress_root / request.param
    if request.param == "sqlite":
        made = sqlite_stack(workdir)
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        made = postgres_stack(workdir, server)
    try:
        yield started(made)
    finally:
        made.stop()


@pytest.fixture
def tmpfs(stress_root: Path) -> Iterator[Path]:
    """A 48 MiB tmpfs (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        # Only root may mount; without it the phase cannot run here at all, and says so (or
        # fails, where a release run demands every phase: DASHTAM_REQUIRE_FULL_DISK=1).
        message = "the full-disk phase mounts a tmpfs, which needs root"
        if os.environ.get("DASHTAM_REQUIRE_FULL_DISK") == "1":
            pytest.fail(message + " and DASHTAM_REQUIRE_FULL_DISK=1")
        pytest.skip(message)
    path = stress_root / "tmpfs"
    path.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        # As root the mount must work: a failure is the suite's, not a reason to skip.
        pytest.fail(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def full_disk_stack(tmpfs: Path, stress_root: Path) -> Iterator[Stack]:
    made = sqlite_stack(stress_root / "sqlite-full", database=tmpfs / "dashtam.db")
    try:
        yield started(made)
    finally:
        made.stop()


Fault = Callable[[Stack], Awaitable[None]]


async def run_phase(stack: Stack, fault_name: str, fault: Fault, bound: float) -> PhaseResult:
    """Load, the fault in the middle of it, recovery, then every invariant; records figures."""
    load = Load(stack.base_url, clients=16, request_timeout=bound + 30)
    await load.start()
    await asyncio.sleep(WARMUP)
    fault_started = time.monotonic()
    await fault(stack)
    fault_ended = time.monotonic()
    await asyncio.to_thread(stack.wait_ready, READY_AFTER_FAULT)
    await asyncio.sleep(AFTER_FAULT)
    await load.stop()
    # Checked against everything acknowledged so far: a later fault must not lose earlier work.
    stack.ledger.extend(load.records)

    violations: list[str] = []
    try:
        drained = await drain(stack.direct_url, within=DRAIN_TIMEOUT)
    except AssertionError as exc:
        violations.append(str(exc))
        drained = DRAIN_TIMEOUT
    state = await snapshot(stack.direct_url)
    sizes = file_sizes_from(stack.ledger)
    violations += check_writes(stack.ledger, state, file_sizes=sizes).violations
    for record in load.records:
        if record.status is not None and record.status >= 500 and record.status not in (503, 507):
            violations.append(f"{record.op} {record.trace_id}: {record.status}")
        if record.seconds > bound:
            violations.append(
                f"{record.op} {record.trace_id}: {record.seconds:.1f}s > {bound:.1f}s"
            )
    verified = await asyncio.to_thread(stack.audit_verify)
    if verified.returncode != 0:
        violations.append(f"audit verify exit {verified.returncode}: {verified.stdout[-500:]}")
    result = PhaseResult(
        backend=stack.backend,
        fault=fault_name,
        records=load.records,
        fault_started=fault_started,
        fault_ended=fault_ended,
        recovered_after=_recovery(load.records, fault_ended),
        drained_after=drained,
        bound=bound,
        violations=violations,
    )
    RESULTS.append(result)
    return result


def _response_violations(records: list[Record], bound: float) -> list[str]:
    """No 5xx but 503/507, nothing slower than the bound; grouped, with one trace id each."""
    seen: dict[str, tuple[int, str]] = {}
    for record in records:
        kinds = []
        if record.status is not None and record.status >= 500 and record.status not in (503, 507):
            kinds.append(f"{record.op} answered {record.status}")
        if record.seconds > bound:
            kinds.append(f"{record.op} took over {bound:.0f}s")
        for kind in kinds:
            count, example = seen.get(kind, (0, record.trace_id))
            seen[kind] = (count + 1, example)
    return [f"{count} x {kind} (e.g. {example})" for kind, (count, example) in seen.items()]


def _recovery(records: list[Record], fault_ended: float) -> float | None:
    done = [
        r.started + r.seconds - fault_ended
        for r in records
        if r.op in WRITES and r.status is not None and r.status < 300 and r.started >= fault_ended
    ]
    return min(done, default=None)


def assert_held(result: PhaseResult) -> None:
    acked = [r for r in result.records if r.op in WRITES and r.status and r.status < 300]
    assert acked, "no write was acknowledged: the load did not run"
    assert result.violations == [], "\n".join(result.violations[:20])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if RESULTS:
        terminalreporter.section("stress figures (for docs/reliability.md)")
        terminalreporter.write_line(summary())
