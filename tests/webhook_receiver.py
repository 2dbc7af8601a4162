"""A webhook receiver on loopback for tests: real HTTP, verifying signatures like a customer.

It checks every request with the documented verification code (``docs/webhooks.md``, the same
as ``signing.verify``), records what it saw, and answers as told: a status for the next N
requests then 200, a redirect, or a hang (no answer until the sender gives up).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dashtam.infrastructure.webhooks.signing import verify


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None  # set once the endpoint's secret is known
        self.received: list[Received] = []
        self.answers: deque[int | str] = deque()  # a status, "hang" or "redirect"; then 200
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/dashtam?tag=1"

    def answer(self, *answers: int | str) -> None:
        self.answers.extend(answers)

    def _next_answer(self) -> int | str:
        with self._lock:
            return self.answers.popleft() if self.answers else 200

    def _record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._release.set()  # hung handlers return now
        self._server.shutdown()
        self._server.server_close()


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature = self.headers.get("Dashtam-Signature", "")
            valid = receiver.secret is not None and verify(receiver.secret, signature, body)
            headers = {key.lower(): value for key, value in self.headers.items()}
            receiver._record(Received(self.path, headers, body, valid))
            answer = receiver._next_answer()
            if answer == "hang":
                receiver._release.wait(10)
                return
            if answer == "redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            else:
                assert isinstance(answer, int)
                self.send_response(answer)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
