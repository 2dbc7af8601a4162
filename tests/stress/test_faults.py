"""The fault suite: each fault under load from 16 clients, then every invariant.

After each fault: every acknowledged write has its row, audit record and outbox row; no import
is partial; every event is delivered once the relay drains; ``dashtam audit verify`` exits 0;
no response is a 500 (503 is allowed during the fault); no response is slower than the bound
computed from the configured timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path

import asyncpg
import pytest

from tests.stress.conftest import assert_held, run_phase
from tests.stress.processes import Stack

pytestmark = pytest.mark.stress

FAULT_SECONDS = 4.0


def _admin_dsn(stack: Stack) -> str:
    assert stack.postgres is not None
    return stack.postgres.admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _terminate_backends(stack: Stack) -> int:
    connection = await asyncpg.connect(_admin_dsn(stack))
    try:
        rows = await connection.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            stack.database_name,
        )
    finally:
        await connection.close()
    return len(rows)


async def _allow_connections(stack: Stack, allowed: bool) -> None:
    connection = await asyncpg.connect(_admin_dsn(stack))
    try:
        value = "true" if allowed else "false"
        await connection.execute(
            f'ALTER DATABASE "{stack.database_name}" ALLOW_CONNECTIONS {value}'
        )
    finally:
        await connection.close()


# Faults of one backend run on that backend's stack only (the session's stack, not a new one).
postgres_only = pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


# --- both backends -----------------------------------------------------------------------------


async def test_kill_9_of_the_api_under_write_load(stack: Stack, bound: float) -> None:
    async def fault(s: Stack) -> None:
        s.kill_api()
        await asyncio.to_thread(s.start_api)

    assert_held(await run_phase(stack, "kill -9 api", fault, bound))


async def test_kill_9_of_the_relay_under_load(stack: Stack, bound: float) -> None:
    async def fault(s: Stack) -> None:
        s.kill_relay()
        await asyncio.sleep(FAULT_SECONDS)  # events pile up with no relay
        s.start_relay()

    assert_held(await run_phase(stack, "kill -9 relay", fault, bound))


# --- PostgreSQL --------------------------------------------------------------------------------


@postgres_only
async def test_backends_terminated_under_load(stack: Stack, bound: float) -> None:
    async def fault(s: Stack) -> None:
        for _ in range(3):
            await _terminate_backends(s)
            await asyncio.sleep(1)

    assert_held(await run_phase(stack, "pg_terminate_backend", fault, bound))


@postgres_only
async def test_a_database_refusing_connections(stack: Stack, bound: float) -> None:
    async def fault(s: Stack) -> None:
        await _allow_connections(s, False)
        try:
            await _terminate_backends(s)
            await asyncio.sleep(FAULT_SECONDS)
        finally:
            await _allow_connections(s, True)

    assert_held(await run_phase(stack, "ALLOW_CONNECTIONS false", fault, bound))


@postgres_only
async def test_a_silent_network_partition(stack: Stack, bound: float) -> None:
    async def fault(s: Stack) -> None:
        assert s.proxy is not None
        s.proxy.pause()
        try:
            # Longer than the bound: a request that waits for the partition to heal is too slow.
            await asyncio.sleep(bound + 2)
        finally:
            s.proxy.resume()

    assert_held(await run_phase(stack, "partition (silent proxy)", fault, bound))


# --- SQLite ------------------------------------------------------------------------------------


def _chattr(flag: str, database: Path) -> None:
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            subprocess.run(["chattr", flag, str(path)], check=True)


@sqlite_only
async def test_a_read_only_sqlite_file(stack: Stack, bound: float) -> None:
    database = Path(stack.direct_url.removeprefix("sqlite+aiosqlite:///"))

    async def fault(s: Stack) -> None:
        # As root, permissions do not stop writes; the immutable attribute (ext4) does: open
        # connections get SQLITE_IOERR_WRITE, new ones SQLITE_READONLY.
        _chattr("+i", database)
        try:
            await asyncio.sleep(FAULT_SECONDS)
        finally:
            _chattr("-i", database)

    assert_held(await run_phase(stack, "sqlite read-only (chattr +i)", fault, bound))


async def test_a_full_sqlite_disk(full_disk_stack: Stack, bound: float) -> None:
    database = Path(full_disk_stack.direct_url.removeprefix("sqlite+aiosqlite:///"))
    ballast = database.with_name("ballast")

    async def fault(_s: Stack) -> None:
        with contextlib.suppress(OSError), ballast.open("wb") as out:
            while True:
                out.write(b"\0" * (1 << 20))
        try:
            await asyncio.sleep(FAULT_SECONDS)
        finally:
            ballast.unlink()

    assert_held(await run_phase(full_disk_stack, "sqlite full disk (tmpfs)", fault, bound))
