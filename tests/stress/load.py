"""The load generator: concurrent clients registering, logging in, connecting, importing, reading.

Every request carries its own ``X-Request-ID``, so a write whose response was lost can still be
found in the database (its audit and outbox rows carry that trace id).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dashtam.core.ids import new_id

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
PASSWORD = "a long stress passphrase"
# (provider, fixture, form fields): small files, one import per fresh connection.
FILES = [
    ("csv-file", "chase_checking.csv", {"preset": "chase-checking"}),
    ("ofx-file", "checking_ofx1_sgml.ofx", {}),
]
WRITES = {"register", "connect", "import"}


@dataclass(frozen=True)
class Record:
    """One request as the client saw it (status None: no response, the connection dropped)."""

    op: str
    trace_id: str
    started: float
    seconds: float
    status: int | None
    body: dict[str, Any] | None = None
    fixture: str | None = None
    connection_id: str | None = None


@dataclass
class Load:
    base_url: str
    clients: int = 16
    request_timeout: float = 60.0
    records: list[Record] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def _send(
        self,
        http: httpx.AsyncClient,
        op: str,
        method: str,
        url: str,
        *,
        fixture: str | None = None,
        connection_id: str | None = None,
        **options: Any,
    ) -> Record:
        trace_id = f"stress-{op}-{new_id().hex}"
        headers = {"x-request-id": trace_id, **options.pop("headers", {})}
        started = time.monotonic()
        try:
            response = await http.request(method, url, headers=headers, **options)
        except httpx.TransportError:
            seconds = time.monotonic() - started
            record = Record(op, trace_id, started, seconds, None, None, fixture, connection_id)
            # The server is down (kill -9): do not spin.
            await asyncio.sleep(0.05)
        else:
            body = response.json() if "json" in response.headers.get("content-type", "") else None
            seconds = time.monotonic() - started
            status = response.status_code
            record = Record(op, trace_id, started, seconds, status, body, fixture, connection_id)
        self.records.append(record)
        return record

    async def _client(self, number: int) -> None:
        timeout = httpx.Timeout(self.request_timeout)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as http:
            headers: dict[str, str] = {}
            iteration = 0
            while not self._stop.is_set():
                iteration += 1
                if not headers or iteration % 6 == 0:
                    headers = await self._sign_up(http) or headers
                    if not headers:
                        continue
                provider, fixture, form = FILES[(number + iteration) % len(FILES)]
                connected = await self._send(
                    http,
                    "connect",
                    "POST",
                    "/api/v1/connections",
                    json={"provider": provider, "label": f"stress {number}"},
                    headers=headers,
                )
                if connected.status == 401:
                    headers = {}
                    continue
                if connected.status == 201 and connected.body:
                    await self._import(http, headers, connected.body["id"], fixture, form)
                for url in ("/api/v1/accounts", "/api/v1/transactions", "/api/v1/connections"):
                    await self._send(http, "read", "GET", url, headers=headers)

    async def _sign_up(self, http: httpx.AsyncClient) -> dict[str, str] | None:
        email = f"s{new_id().hex}@example.com"
        account = {"email": email, "password": PASSWORD}
        registered = await self._send(http, "register", "POST", "/api/v1/users", json=account)
        if registered.status != 201:
            return None
        logged_in = await self._send(http, "login", "POST", "/api/v1/sessions", json=account)
        if logged_in.status != 201 or logged_in.body is None:
            return None
        return {"authorization": f"Bearer {logged_in.body['access_token']}"}

    async def _import(
        self,
        http: httpx.AsyncClient,
        headers: dict[str, str],
        connection_id: str,
        fixture: str,
        form: dict[str, str],
    ) -> None:
        files = {"file": (fixture, (FIXTURES / fixture).read_bytes(), "application/octet-stream")}
        await self._send(
            http,
            "import",
            "POST",
            f"/api/v1/connections/{connection_id}/imports",
            fixture=fixture,  # which file went to which connection, acknowledged or not
            connection_id=connection_id,
            files=files,
            data=form,
            headers=headers,
        )


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
