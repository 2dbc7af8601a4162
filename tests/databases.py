"""Throw-away test databases on PostgreSQL and SQLite, built by the real migrations.

PostgreSQL is found via ``TEST_DATABASE_URL``, then ``127.0.0.1:5432``, then a private cluster
started with ``pg_ctl`` from PATH. ``DASHTAM_REQUIRE_POSTGRES=1`` turns "not found" into a failure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

from dashtam.core.config import normalize_database_url
from dashtam.core.ids import new_id
from dashtam.infrastructure.persistence import migrator

T = TypeVar("T")

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class PostgresServer:
    """A server we may create and drop databases on; ``admin_url`` names a maintenance db."""

    admin_url: str

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def _dsn(self) -> str:
        return self.admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def create_database(self, name: str, *, template: str | None = None) -> str:
        connection = await asyncpg.connect(self._dsn())
        try:
            clause = f' TEMPLATE "{template}"' if template else ""
            await connection.execute(f'CREATE DATABASE "{name}"{clause}')
        finally:
            await connection.close()
        return self.url_for(name)

    async def drop_database(self, name: str) -> None:
        connection = await asyncpg.connect(self._dsn())
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def _reachable(url: str) -> bool:
    try:
        connection = await asyncpg.connect(
            url.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=3
        )
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _private_cluster() -> Iterator[str | None]:
    """Start a throw-away cluster with pg_ctl from PATH (None when there is none)."""
    pg_ctl = shutil.which("pg_ctl")
    initdb = shutil.which("initdb")
    if pg_ctl is None or initdb is None or os.geteuid() == 0:
        # initdb refuses to run as root; such machines have a system server instead.
        yield None
        return
    workdir = Path(tempfile.mkdtemp(prefix="dashtam-pg-"))
    port = _free_port()
    data = workdir / "data"
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [pg_ctl, "-D", str(data), "-o", f"-p {port} -k {workdir}", "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "fast", "stop"], check=False, capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def find_postgres() -> Iterator[PostgresServer | None]:
    explicit = os.environ.get("TEST_DATABASE_URL")
    candidates = [normalize_database_url(explicit)] if explicit else [DEFAULT_PG_URL]
    for url in candidates:
        if run_blocking(_reachable(url)):
            yield PostgresServer(url)
            return
    with _private_cluster() as url:
        yield PostgresServer(url) if url else None


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even when an event loop is running."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coro).result()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{new_id().hex}"


def migrate(url: str) -> None:
    migrator.upgrade(url, "head")


class ClonePool:
    """PostgreSQL test databases cloned from the template ahead of need, in a thread of their own.

    A ``CREATE DATABASE ... TEMPLATE`` costs about 0.4 s of disk syncs and a drop a little less:
    done in line, they were most of the suite's PostgreSQL time. Here they overlap with the
    tests: ``take`` hands out a database cloned earlier, ``give_back`` queues it for dropping.
    Each test still gets a database no other test has touched.
    """

    def __init__(self, server: PostgresServer, template: str, *, ahead: int = 8) -> None:
        self._server = server
        self._template = template
        self._ready: queue.Queue[str] = queue.Queue(maxsize=ahead)
        self._used: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="clone-pool", daemon=True)
        self._thread.start()

    def take(self) -> str:
        while True:
            if self._failure is not None:
                raise RuntimeError("cloning a test database failed") from self._failure
            try:
                return self._ready.get(timeout=0.5)
            except queue.Empty:
                continue

    def give_back(self, name: str) -> None:
        self._used.put(name)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        leftovers: list[str] = []
        for pending in (self._ready, self._used):
            while not pending.empty():
                leftovers.append(pending.get_nowait())
        for name in leftovers:
            run_blocking(self._server.drop_database(name))

    def _work(self) -> None:
        try:
            asyncio.run(self._fill())
        except BaseException as exc:  # handed to the test that waits for a database
            self._failure = exc

    async def _fill(self) -> None:
        # Clones are made several at a time: the server syncs them to disk together.
        making: set[asyncio.Task[str]] = set()
        while not self._stop.is_set():
            while not self._used.empty():
                await self._server.drop_database(self._used.get_nowait())
            while self._ready.qsize() + len(making) < self._ready.maxsize:
                making.add(asyncio.create_task(self._clone()))
            if not making:
                await asyncio.sleep(0.02)
                continue
            done, making = await asyncio.wait(making, timeout=0.05)
            for task in done:
                self._ready.put(task.result())
        for task in making:
            self._used.put(await task)

    async def _clone(self) -> str:
        name = unique_name("dashtam_t")
        await self._server.create_database(name, template=self._template)
        return name
