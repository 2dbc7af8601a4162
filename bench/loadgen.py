"""A lean HTTP/1.1 load generator, so the client is never what limits a benchmark.

httpx costs a few hundred microseconds of CPU per request; 32 httpx callers against the bare
twin used 89-98% of a core and capped it. Here each connection is an ``asyncio.Protocol`` with
its request pre-built as bytes (method, path, Host, headers, body): it writes them, parses the
status line and ``Content-Length`` (or a chunked body) of the answer, records the latency and
the status, and writes the next request at once (closed loop, keep-alive). No coroutine, no
header objects, no URL parsing per request.

``hammer`` runs ``clients`` connections for ``seconds``, optionally spread over several
processes (forked, connected, then released together) whose latencies are merged. The CPU the
client used is measured in every process and summed (``client_cpu``, in cores).
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Barrier
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 10.0


def request_bytes(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> bytes:
    """One keep-alive HTTP/1.1 request, ready to write as is."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass(slots=True)
class Load:
    """What one run answered. ``client_cpu`` is in cores (1.0: one core busy all along)."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms, one per answer
    statuses: Counter[int] = field(default_factory=Counter)  # 0: the connection broke
    body_sizes: Counter[tuple[int, int]] = field(default_factory=Counter)  # (status, bytes)
    client_cpu: float = 0.0
    sample: bytes = b""  # the first 2xx body, to compare with another client's

    @property
    def answers(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> dict[int, int]:
        return {status: n for status, n in self.statuses.items() if not 200 <= status < 300}

    @property
    def cpu_us_per_request(self) -> float:
        return self.client_cpu * self.seconds / self.answers * 1e6 if self.answers else 0.0

    def merge(self, other: Load) -> None:
        self.seconds = max(self.seconds, other.seconds)
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.body_sizes += other.body_sizes
        self.client_cpu += other.client_cpu
        self.sample = self.sample or other.sample


def _parse(buffer: bytearray) -> tuple[int, int, bytes] | None:
    """(status, bytes consumed, body) of the first complete response in ``buffer``, or None."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    status = int(head[9:12])
    start = end + 4
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        if len(buffer) < start + length:
            return None
        return status, start + length, bytes(buffer[start : start + length])
    if b"\r\ntransfer-encoding: chunked" in head:
        return _parse_chunked(buffer, status, start)
    if status in (204, 304) or 100 <= status < 200:
        return status, start, b""
    raise ValueError("a response without Content-Length or chunked body (not keep-alive)")


def _parse_chunked(buffer: bytearray, status: int, at: int) -> tuple[int, int, bytes] | None:
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";", 1)[0], 16)
        at = line_end + 2
        if size == 0:  # no trailers expected: the terminating empty line
            if len(buffer) < at + 2:
                return None
            return status, at + 2, bytes(body)
        if len(buffer) < at + size + 2:
            return None
        body += buffer[at : at + size]
        at += size + 2


class _Connection(asyncio.Protocol):
    """One keep-alive connection repeating its request until the run's deadline."""

    def __init__(self, run: _Run, request: bytes) -> None:
        self._run, self._request = run, request
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._sent_at = 0.0
        self.done: asyncio.Future[None] = run.loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def send(self) -> None:
        assert self._transport is not None
        self._sent_at = time.perf_counter()
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (parsed := _parse(self._buffer)) is not None:
            status, consumed, body = parsed
            now = time.perf_counter()
            del self._buffer[:consumed]
            self._run.record(status, (now - self._sent_at) * 1000, body)
            run = self._run
            if now >= run.deadline:
                if not self.done.done():
                    self.done.set_result(None)
            elif run.interval:  # paced: the next request at its own slot, or at once if late
                run.loop.call_later(max(0.0, self._sent_at + run.interval - now), self.send)
            else:
                self.send()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self.done.done():  # the server closed a connection we were still using
            self._run.record(0, (time.perf_counter() - self._sent_at) * 1000, b"")
            self.done.set_result(None)


@dataclass(slots=True)
class _Run:
    loop: asyncio.AbstractEventLoop
    deadline: float = float("inf")
    answers: float = float("inf")  # stop sending once this many answers are in
    interval: float = 0.0  # seconds from one request's start to the next on a connection
    load: Load = field(default_factory=Load)

    def record(self, status: int, latency_ms: float, body: bytes) -> None:
        load = self.load
        load.latencies.append(latency_ms)
        load.statuses[status] += 1
        load.body_sizes[(status, len(body))] += 1
        if not load.sample and 200 <= status < 300:
            load.sample = body
        if len(load.latencies) >= self.answers:
            self.deadline = 0.0


def _same(connection: _Connection) -> _Connection:
    return connection


class Hammer:
    """Connections made up front, then driven once by ``run`` (until its bound or ``stop``)."""

    def __init__(self, run: _Run, connections: list[_Connection]) -> None:
        self._run, self._connections = run, connections

    @classmethod
    async def connect(cls, url: str, requests: Sequence[bytes], clients: int) -> Hammer:
        """``clients`` connections to ``url`` (scheme://host:port); connection ``i`` will
        repeat ``requests[i % len(requests)]``."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        run = _Run(asyncio.get_running_loop())
        connections = [_Connection(run, requests[i % len(requests)]) for i in range(clients)]
        for connection in connections:
            await asyncio.wait_for(
                run.loop.create_connection(functools.partial(_same, connection), host, port),
                timeout=CONNECT_TIMEOUT_S,
            )
        return cls(run, connections)

    def stop(self) -> None:
        """No new request from now on; ``run`` returns once those in flight are answered."""
        self._run.deadline = 0.0

    async def run(
        self, seconds: float = float("inf"), *, answers: int | None = None, interval: float = 0.0
    ) -> Load:
        """Closed loop for ``seconds`` or until ``answers`` answers or ``stop``; then closes.
        With ``interval``, each connection starts a request at most every ``interval`` s."""
        run = self._run
        cpu, started = time.process_time(), time.perf_counter()
        run.deadline = started + seconds
        run.answers = float("inf") if answers is None else answers
        run.interval = interval
        for connection in self._connections:
            connection.send()
        try:
            await asyncio.gather(*(c.done for c in self._connections))
        finally:
            for connection in self._connections:
                connection.close()
        load = run.load
        load.seconds = time.perf_counter() - started
        load.client_cpu = (time.process_time() - cpu) / load.seconds
        return load


async def hammer_here(url: str, requests: Sequence[bytes], clients: int, seconds: float) -> Load:
    """``clients`` connections to ``url``, in this process and loop, for ``seconds``."""
    return await (await Hammer.connect(url, requests, clients)).run(seconds)


def _child(
    url: str,
    requests: Sequence[bytes],
    clients: int,
    seconds: float,
    barrier: Barrier,
    out: Connection,
) -> None:
    async def main() -> Load:
        connected = await Hammer.connect(url, requests, clients)
        await asyncio.to_thread(barrier.wait, 30)  # every process connected: go together
        return await connected.run(seconds)

    out.send(asyncio.run(main()))
    out.close()


def _hammer_in_processes(
    url: str, requests: Sequence[bytes], clients: int, seconds: float, processes: int
) -> Load:
    context = multiprocessing.get_context("fork")  # fast to start; the child runs no loop yet
    barrier = context.Barrier(processes)
    pipes, children = [], []
    for index in range(processes):
        mine = [requests[i % len(requests)] for i in range(index, clients, processes)]
        receive, send = context.Pipe(duplex=False)
        child = context.Process(
            target=_child, args=(url, mine, len(mine), seconds, barrier, send), daemon=True
        )
        child.start()
        send.close()
        pipes.append(receive)
        children.append(child)
    merged = Load()
    try:
        for receive in pipes:
            merged.merge(receive.recv())
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
    return merged


async def hammer(
    url: str,
    requests: Sequence[bytes],
    *,
    clients: int,
    seconds: float,
    processes: int = 1,
) -> Load:
    """``clients`` keep-alive connections repeating ``requests`` for ``seconds``.

    With ``processes`` > 1 the connections are shared out over that many forked processes,
    released together once all are connected; their answers are merged (``client_cpu`` is the
    sum of their CPU over the run, ``seconds`` the longest run).
    """
    if processes <= 1:
        return await hammer_here(url, requests, clients, seconds)
    return await asyncio.to_thread(_hammer_in_processes, url, requests, clients, seconds, processes)
