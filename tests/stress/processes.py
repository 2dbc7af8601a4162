"""Real ``dashtam`` processes for the stress suite: a migrated database, ``serve`` and a relay."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.databases import PostgresServer, _free_port, run_blocking, unique_name
from tests.faults import TcpProxy
from tests.stress.load import Record

DASHTAM = str(Path(sys.executable).with_name("dashtam"))
SECRET = "stress-secret-key-that-is-long-enough-0123456789abcdef"
START_TIMEOUT = 60.0
# Tighter than the defaults so that a partition longer than the bound stays short to run.
TIMEOUTS = {
    "DB_CONNECT_TIMEOUT": "2",
    "DB_POOL_TIMEOUT": "2",
    "DB_STATEMENT_TIMEOUT": "3",
    "DB_COMMAND_TIMEOUT": "4",
    "DB_SQLITE_BUSY_TIMEOUT_MS": "3000",
}


def dashtam(
    env: dict[str, str], *args: str, timeout: float = 120.0, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """One CLI command, bounded in time."""
    return subprocess.run(
        [DASHTAM, *args],
        env=env,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Stack:
    """One database with an API server and an event relay in front of it."""

    backend: str
    workdir: Path
    direct_url: str  # what the checks (and the relay) use
    postgres: PostgresServer | None = None
    database_name: str | None = None
    proxy: TcpProxy | None = None  # PostgreSQL only: the API reaches its database through it
    port: int = field(default_factory=_free_port)
    api: subprocess.Popen[bytes] | None = None
    relay: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    ledger: list[Record] = field(default_factory=list)  # every request of every phase
    logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The API's DATABASE_URL: through the proxy when there is one."""
        if self.proxy is None or self.postgres is None or self.database_name is None:
            return self.direct_url
        server = PostgresServer(
            f"postgresql+asyncpg://postgres@127.0.0.1:{self.proxy.port}/postgres"
        )
        return server.url_for(self.database_name)

    def env(self, database_url: str | None = None) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url or self.direct_url,
            "DASHTAM_ENV": "test",
            "DASHTAM_SECRET_KEY": SECRET,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            "DASHTAM_AUDIT_SEAL_INTERVAL": "1",
            "DASHTAM_AUDIT_CHECKPOINT_PATH": str(self.workdir / "checkpoints.jsonl"),
            "EVENT_BROKER_URL": "",
            **TIMEOUTS,
        }

    # --- lifecycle ---------------------------------------------------------------------------

    def migrate(self) -> None:
        done = dashtam(self.env(), "db", "upgrade")
        assert done.returncode == 0, done.stderr

    def start_api(self) -> float:
        """Starts ``dashtam serve``; returns the seconds until ``/ready`` answered 200."""
        log = self._log("api.log")
        self.api = subprocess.Popen(
            [DASHTAM, "serve", "--port", str(self.port)],
            env=self.env(self.api_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self.wait_ready()

    def start_relay(self) -> None:
        log = self._log("relay.log")
        self.relay = subprocess.Popen(
            [DASHTAM, "events", "relay", "--poll-interval", "0.2"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def _log(self, name: str) -> IO[bytes]:
        log = (self.workdir / name).open("ab")
        self.logs.append(log)
        return log

    def wait_ready(self, timeout: float = START_TIMEOUT) -> float:
        started = time.monotonic()
        deadline = started + timeout
        while time.monotonic() < deadline:
            assert self.api is not None
            if self.api.poll() is not None:
                raise AssertionError(
                    f"dashtam serve exited {self.api.returncode}: {self.api_log()}"
                )
            try:
                if httpx.get(f"{self.base_url}/ready", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"/ready not 200 within {timeout}s: {self.api_log()}")

    def kill_api(self) -> None:
        """kill -9: no shutdown hook runs, in-flight requests are cut."""
        assert self.api is not None
        self.api.send_signal(signal.SIGKILL)
        self.api.wait(timeout=10)
        self.restarts += 1

    def kill_relay(self) -> None:
        assert self.relay is not None
        self.relay.send_signal(signal.SIGKILL)
        self.relay.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.api, self.relay):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        for log in self.logs:
            log.close()
        if self.proxy is not None:
            self.proxy.close()
        if self.postgres is not None and self.database_name is not None:
            run_blocking(self.postgres.drop_database(self.database_name))

    def api_log(self) -> str:
        path = self.workdir / "api.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def audit_verify(self) -> subprocess.CompletedProcess[str]:
        return dashtam(self.env(), "audit", "verify", timeout=180)


def sqlite_stack(workdir: Path, database: Path | None = None) -> Stack:
    """Logs and checkpoints in ``workdir``; the database there too unless ``database`` says."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = database or workdir / "dashtam.db"
    return Stack(backend="sqlite", workdir=workdir, direct_url=f"sqlite+aiosqlite:///{path}")


def postgres_stack(workdir: Path, server: PostgresServer) -> Stack:
    workdir.mkdir(parents=True, exist_ok=True)
    name = unique_name("dashtam_stress")
    url = run_blocking(server.create_database(name))
    upstream_port = int(url.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
    proxy = TcpProxy()
    proxy.start("127.0.0.1", upstream_port)
    return Stack(
        backend="postgresql",
        workdir=workdir,
        direct_url=url,
        postgres=server,
        database_name=name,
        proxy=proxy,
    )


def started(stack: Stack) -> Stack:
    stack.migrate()
    stack.start_api()
    stack.start_relay()
    return stack
