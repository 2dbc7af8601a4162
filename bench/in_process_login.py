"""Event-loop CPU per log-in, in process: what bench/login_storm.py's storm costs the loop.

    .venv/bin/python -m bench.in_process_login [--log-ins 100] [--rounds 3]

``create_app()`` against a throw-away, migrated PostgreSQL database; one user registers, then
``POST /api/v1/sessions`` is sent straight to the ASGI app (bench/in_process.py's ``call``),
one log-in after another. The figure is the main thread's CPU (``time.thread_time``) per
log-in: the argon2 hash runs in a hashing thread and is left out, everything the event loop
does (three transactions, token issue, the event's in-process delivery) is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

from bench.common import server_env, throwaway_postgres
from bench.data import EMAIL, PASSWORD
from bench.in_process import App, call
from dashtam.infrastructure.logging.setup import configure_logging
from dashtam.infrastructure.persistence import migrator

WARM_UP = 10
JSON = [(b"content-type", b"application/json")]


async def _log_in(app: App, credentials: bytes) -> None:
    status, body = await call(app, "POST", "/api/v1/sessions", JSON, credentials)
    if status != 201:
        raise RuntimeError(f"log-in answered {status}: {body[:300]!r}")


async def run(*, log_ins: int, rounds: int) -> None:
    async with throwaway_postgres("dashtam_inproc_login") as url:
        os.environ.update(server_env(url, DASHTAM_AUDIT_SEAL_INTERVAL="0", DB_POOL_SIZE="4"))
        migrator.upgrade(url)
        from dashtam.presentation.api.app import create_app

        app = create_app()
        async with app.router.lifespan_context(app):
            credentials = json.dumps({"email": EMAIL, "password": PASSWORD}).encode()
            status, body = await call(app, "POST", "/api/v1/users", JSON, credentials)
            if status != 201:
                raise RuntimeError(f"registering answered {status}: {body[:300]!r}")
            for _ in range(WARM_UP):
                await _log_in(app, credentials)
            figures = []
            for _ in range(rounds):
                started = time.thread_time()
                for _ in range(log_ins):
                    await _log_in(app, credentials)
                figures.append((time.thread_time() - started) / log_ins * 1000)
    print(f"log-in {statistics.median(figures):7.3f} ms of event-loop CPU "
          f"(min {min(figures):.3f}, {rounds} windows of {log_ins})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.in_process_login")
    parser.add_argument("--log-ins", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_logging(level="WARNING", log_format="console")  # figures only, no debug lines
    asyncio.run(run(log_ins=args.log_ins, rounds=args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
