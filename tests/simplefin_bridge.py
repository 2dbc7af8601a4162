"""A SimpleFIN server on loopback for tests: real HTTP, built from the protocol's text.

It issues setup tokens (base64 of a claim URL), answers each claim once (403 after), checks
basic auth on ``GET /accounts``, filters transactions by ``start-date`` (inclusive),
``end-date`` (exclusive) and ``pending=1``, and speaks version 1 (``errors``, ``org``) or
version 2 (``errlist``, ``connections``) as asked. Tests can make it answer errors, a status,
slowly or with broken JSON, and read every request it saw.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = "/simplefin"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    username: str | None


@dataclass
class Behaviour:
    """What the next answers of ``/accounts`` look like; tests set these fields."""

    status: int | None = None
    delay_seconds: float = 0.0
    malformed: bool = False
    errors: list[str] = field(default_factory=list)
    errlist: list[dict[str, str]] = field(default_factory=list)
    body: bytes | None = None


class SimplefinBridge:
    def __init__(self) -> None:
        self.accounts: list[dict[str, Any]] = []
        self.behaviour = Behaviour()
        self.requests: list[RecordedRequest] = []
        self._claims: dict[str, bool] = {}
        self._credentials: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll keeps shutdown (once per test) from costing half a second.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def issue_setup_token(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._claims[token] = False
        claim_url = f"{self.base_url}{ROOT}/claim/{token}"
        return base64.b64encode(claim_url.encode()).decode("ascii")

    def revoke(self, username: str) -> None:
        with self._lock:
            self._credentials.pop(username, None)

    def count(self, path_suffix: str = "", *, username: str | None = None) -> int:
        """Requests whose path ends with ``path_suffix`` (from one user, if named)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.path.endswith(path_suffix) and (username is None or r.username == username)
            )

    # -- answers, called from the server's threads -------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _claim(self, token: str) -> str | None:
        with self._lock:
            if self._claims.get(token, True):
                return None
            self._claims[token] = True
            username = "user" + secrets.token_hex(6)
            self._credentials[username] = secrets.token_urlsafe(18)
            password = self._credentials[username]
        host_port = self.base_url.removeprefix("http://")
        return f"http://{username}:{password}@{host_port}{ROOT}"

    def _authenticated(self, header: str | None) -> str | None:
        if header is None or not header.startswith("Basic "):
            return None
        try:
            pair = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
        except ValueError:
            return None
        username, _, password = pair.partition(":")
        with self._lock:
            known = self._credentials.get(username)
        return username if known is not None and secrets.compare_digest(known, password) else None

    def _account_set(self, query: dict[str, str]) -> dict[str, Any]:
        version2 = query.get("version") == "2"
        accounts = [
            _filtered(account, query, version2)
            for account in self.accounts
            if "account" not in query or account["id"] == query["account"]
        ]
        answer: dict[str, Any] = {"errors": list(self.behaviour.errors), "accounts": accounts}
        if version2:
            answer["errlist"] = list(self.behaviour.errlist)
            answer["connections"] = _connections(self.accounts)
        return answer

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout, a size limit) leaves a broken pipe: expected here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _filtered(account: dict[str, Any], query: dict[str, str], version2: bool) -> dict[str, Any]:
    start = int(query.get("start-date", "0"))
    end = int(query["end-date"]) if "end-date" in query else None
    with_pending = query.get("pending") == "1"
    copy = {k: v for k, v in account.items() if k not in ("transactions", "org", "conn_id")}
    if version2:
        copy["conn_id"] = account["conn_id"]
    else:
        copy["org"] = account["org"]
    if query.get("balances-only") == "1":
        return copy
    kept = []
    for tx in account.get("transactions", []):
        pending = tx.get("pending", False)
        when = tx.get("transacted_at", 0) if pending and tx["posted"] == 0 else tx["posted"]
        if pending and not with_pending:
            continue
        if when >= start and (end is None or when < end):
            kept.append(tx)
    copy["transactions"] = kept
    return copy


def _connections(accounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for account in accounts:
        org = account["org"]
        seen.setdefault(
            account["conn_id"],
            {
                "conn_id": account["conn_id"],
                "name": org.get("name", org.get("domain")),
                "org_id": org.get("id", org.get("domain")),
                "org_name": org.get("name"),
                "org_url": org.get("url"),
                "sfin_url": org["sfin-url"],
            },
        )
    return list(seen.values())


def _handler_for(bridge: SimplefinBridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            bridge._record(RecordedRequest("POST", path, {}, None))
            if bridge.behaviour.delay_seconds:
                bridge._wait(bridge.behaviour.delay_seconds)
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            prefix = f"{ROOT}/claim/"
            access = bridge._claim(path.removeprefix(prefix)) if path.startswith(prefix) else None
            if access is None:
                self._send(403, b"Forbidden", "text/plain")
            else:
                self._send(200, access.encode(), "text/plain")

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            username = bridge._authenticated(self.headers.get("Authorization"))
            bridge._record(RecordedRequest("GET", parts.path, query, username))
            behaviour = bridge.behaviour
            if behaviour.delay_seconds:
                bridge._wait(behaviour.delay_seconds)
            if parts.path != f"{ROOT}/accounts":
                self._send(404, b"Not found", "text/plain")
            elif username is None:
                self._send(403, b"Forbidden", "text/plain")
            elif behaviour.status is not None:
                self._send(behaviour.status, b"{}", "application/json")
            elif behaviour.malformed:
                self._send(200, b'{"errors": [], "accounts": [{"id": ', "application/json")
            elif behaviour.body is not None:
                self._send(200, behaviour.body, "application/json")
            else:
                body = json.dumps(bridge._account_set(query)).encode()
                self._send(200, body, "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def running_bridge() -> Iterator[SimplefinBridge]:
    """A started bridge, stopped on leaving (the pytest fixture's body)."""
    bridge = SimplefinBridge()
    bridge.start()
    try:
        yield bridge
    finally:
        bridge.stop()


DAY = 86_400


def sample_accounts(anchor: int) -> list[dict[str, Any]]:
    """Accounts shaped like the protocol's examples, with times relative to ``anchor``."""
    bank = {"domain": "mybank.com", "name": "My Bank", "sfin-url": "https://sfin.mybank.com"}
    broker = {"domain": "broker.example", "sfin-url": "https://sfin.broker.example"}
    return [
        {
            "org": bank,
            "conn_id": "CON-1",
            "id": "2930002",
            "name": "Savings",
            "currency": "USD",
            "balance": "100.23",
            "available-balance": "75.23",
            "balance-date": anchor - 3600,
            "transactions": [
                _tx("T-OLD", anchor - 40 * DAY, "-33293.43", "Uncle Frank's Bait Shop"),
                _tx("T-MID", anchor - 10 * DAY, "1200.00", "Payroll", payee="ACME Corp"),
                _tx("T-NEW", anchor - 1 * DAY, "-4.05", "Coffee", memo="card 1234"),
                {
                    "id": "T-PEND",
                    "posted": 0,
                    "amount": "-19.99",
                    "description": "Online store",
                    "transacted_at": anchor - 7200,
                    "pending": True,
                },
            ],
        },
        {
            "org": broker,
            "conn_id": "CON-2",
            "id": "B-77",
            "name": "Brokerage",
            "currency": "USD",
            "balance": "15234.10",
            "balance-date": anchor - 3600,
            "transactions": [],
            "holdings": [
                {
                    "id": "H-1",
                    "created": anchor - 5 * DAY,
                    "currency": "USD",
                    "cost_basis": "9000.00",
                    "description": "Vanguard Total Stock Market ETF",
                    "market_value": "10234.10",
                    "purchase_price": "225.00",
                    "shares": "40.000",
                    "symbol": "VTI",
                }
            ],
        },
        {
            "org": {"name": "Example Air", "sfin-url": "https://sfin.example-air.test"},
            "conn_id": "CON-3",
            "id": "M-1",
            "name": "Frequent flyer",
            "currency": "https://www.example.com/flight-miles",
            "balance": "48200",
            "balance-date": anchor - DAY,
        },
    ]


def _tx(tx_id: str, posted: int, amount: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": tx_id,
        "posted": posted,
        "amount": amount,
        "description": description,
        "transacted_at": posted - 3600,
        **extra,
    }
