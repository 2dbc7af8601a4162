"""CPU (or instructions) per request of the HTTP reads, in process: no uvicorn, no client.

    .venv/bin/python -m bench.in_process [list pk twin-list twin-pk] [--requests 300]
    valgrind --tool=callgrind --cache-sim=no --callgrind-out-file=/tmp/cg.%p \\
        .venv/bin/python -m bench.in_process pk --callgrind      (instructions per window)

A throw-away PostgreSQL database is seeded like bench.http_reads'; then ``create_app()`` and the
twin (bench/bare_app.py) are driven by ASGI calls, one request after another, and the process's
CPU time over each window is divided by its requests. Sealing is off (a seal of other
processes' records would land in the window), the pools hold 2 connections (no liveness pings
of connections a slow run left idle) and the read audit buffer is flushed once at the end of
each window, inside it: every request pays for its record, and only for it. With
``--callgrind``, the counters of a callgrind run are zeroed before each window and dumped
after it (``callgrind_control``); the dump's totals divided by the requests are the figures.
On a shared machine timings move by a third from minute to minute; instruction counts repeat
within a few percent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import plain_dsn, server_env, throwaway_postgres
from bench.data import EMAIL, PASSWORD
from bench.http_reads import LIST_PATH, SEED_TRANSACTIONS, seed

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
WARM_UP = 30
PATHS = ("list", "pk", "twin-list", "twin-pk")


async def call(
    app: App, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, bytes]:
    """One request through the ASGI app: (status, body)."""
    route, _, query = path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    sent, status, chunks = False, 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # the client never disconnects
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _callgrind(command: str, *args: str) -> None:
    subprocess.run(["callgrind_control", command, *args, str(os.getpid())], check=True,
                   capture_output=True)  # fmt: skip


async def window(
    app: App, path: str, headers: list[tuple[bytes, bytes]], *, requests: int, label: str,
    flush: Callable[[], Awaitable[object]] | None, callgrind: bool,
) -> float:  # fmt: skip
    """CPU milliseconds per request over ``requests`` sequential requests."""
    for _ in range(WARM_UP):
        status, _ = await call(app, "GET", path, headers)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    if flush is not None:
        await flush()
    if callgrind:
        _callgrind("-z")
    started = time.process_time()
    for _ in range(requests):
        await call(app, "GET", path, headers)
    if flush is not None:
        await flush()  # the audit records of this window, one batch
    spent = time.process_time() - started
    if callgrind:
        _callgrind("-d", label)
    return spent / requests * 1000


async def run(which: list[str], *, requests: int, rounds: int, callgrind: bool) -> None:
    async with throwaway_postgres("dashtam_inproc") as url:
        env = server_env(url, DASHTAM_AUDIT_SEAL_INTERVAL="0", DB_POOL_SIZE="2",
                         DASHTAM_READ_AUDIT_CAPACITY="2000",
                         DASHTAM_READ_AUDIT_FLUSH_INTERVAL="600")  # fmt: skip
        await seed(env, url, SEED_TRANSACTIONS)
        os.environ.update(env | {"BARE_DATABASE_URL": plain_dsn(url)})
        from bench.bare_app import create_app as create_twin
        from dashtam.presentation.api.app import create_app

        ours, twin = create_app(), create_twin()
        flush = ours.state.container.read_audit_log.flush
        async with ours.router.lifespan_context(ours), twin.router.lifespan_context(twin):
            credentials = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
            json_type = [(b"content-type", b"application/json")]
            _, body = await call(ours, "POST", "/api/v1/sessions", json_type, credentials)
            token = json.loads(body)["access_token"]
            headers = [(b"authorization", f"Bearer {token}".encode()), (b"user-agent", b"bench")]
            _, body = await call(ours, "GET", "/api/v1/accounts", headers)
            account = f"/api/v1/accounts/{json.loads(body)['items'][0]['id']}"
            figures: dict[str, list[float]] = {name: [] for name in which}
            for _ in range(rounds):
                for name in which:
                    is_twin = name.startswith("twin")
                    figures[name].append(
                        await window(
                            twin if is_twin else ours,
                            LIST_PATH if name.endswith("list") else account,
                            headers,
                            requests=requests,
                            label=name,
                            flush=None if is_twin else flush,
                            callgrind=callgrind,
                        )
                    )
            for name, values in figures.items():
                print(f"{name:10} {statistics.median(values):7.3f} ms CPU/request "
                      f"(min {min(values):.3f}, {rounds} windows of {requests})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.in_process")
    parser.add_argument("which", nargs="*", help=f"any of {', '.join(PATHS)} (default: all)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true", help="zero/dump around windows")
    args = parser.parse_args()
    which = args.which or list(PATHS)
    if unknown := set(which) - set(PATHS):
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    rounds = 1 if args.callgrind else args.rounds
    asyncio.run(run(which, requests=args.requests, rounds=rounds, callgrind=args.callgrind))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
