"""Posts due webhook deliveries over HTTP: signed, to the checked address, retried with backoff.

``deliver_due(limit)`` claims and sends one batch (call it from any process, any number of
times: claims never overlap); ``run(stop=..., interval=...)`` repeats it until ``stop`` is set.
A 2xx answer delivers; anything else (an error status, a redirect, a timeout, a refused
address) is retried after ``backoff(attempt)`` until ``max_attempts``, then the delivery has
failed. ``disable_after`` deliveries failed in a row disable their endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam import __version__
from dashtam.core.clock import utcnow
from dashtam.core.result import Failure, Success
from dashtam.domain.addresses import IPAddress
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.webhooks.destinations import DestinationGuard, parse_destination
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.webhooks import store
from dashtam.infrastructure.webhooks.signing import SIGNATURE_HEADER, signature_header

# Beyond the send's own bound: the DNS check and the write of the outcome.
LEASE_MARGIN_SECONDS = 30.0
DEFAULT_BATCH = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class SenderPolicy:
    """Timeouts, retries and disabling (see docs/webhooks.md for the defaults)."""

    timeout_seconds: float = 10.0
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 6 * 3600.0
    disable_after: int = 20

    def backoff(self, attempt: int) -> timedelta:
        """The wait after failed attempt ``attempt``: doubling from the base, capped, with
        jitter (between half and all of it) so that retries of many deliveries spread out."""
        exponent = min(max(attempt - 1, 0), 32)
        delay = min(self.backoff_base_seconds * 2**exponent, self.backoff_max_seconds)
        return timedelta(seconds=delay / 2 + random.uniform(0, delay / 2))  # noqa: S311


class WebhookSender:
    def __init__(
        self,
        *,
        database: Database,
        guard: DestinationGuard,
        cipher: CredentialCipher,
        logger: LoggerProtocol,
        policy: SenderPolicy,
    ) -> None:
        self._database = database
        self._guard = guard
        self._cipher = cipher
        self._logger = logger
        self.policy = policy
        self._lease = timedelta(seconds=policy.timeout_seconds + LEASE_MARGIN_SECONDS)

    async def deliver_due(self, limit: int = DEFAULT_BATCH) -> int:
        """Claim up to ``limit`` due deliveries and attempt each once; returns how many."""
        try:
            async with self._database.transaction() as session:
                claimed = await store.claim(session, now=utcnow(), lease=self._lease, limit=limit)
        except DB_ERRORS as exc:
            self._logger.error("webhook_claim_failed", code=classify(exc).code)
            return 0
        if not claimed:
            return 0
        async with httpx.AsyncClient(
            timeout=self.policy.timeout_seconds,
            follow_redirects=False,
            # No proxy from the environment: it would connect to the name, not the checked IP.
            trust_env=False,
        ) as client:
            attempted = await asyncio.gather(*(self._attempt(client, c) for c in claimed))
        await self._record(attempted)
        return len(claimed)

    async def run(self, *, stop: asyncio.Event, interval: float = 2.0) -> None:
        """Send due deliveries until ``stop`` is set, waiting ``interval`` when none are due."""
        while not stop.is_set():
            if await self.deliver_due() == DEFAULT_BATCH:
                continue  # more may be waiting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def _attempt(self, client: httpx.AsyncClient, claimed: store.Claimed) -> store.Attempted:
        status, error = await self._post(client, claimed)
        delivered = status is not None and 200 <= status < 300
        retry_at = None
        if not delivered and claimed.attempt < self.policy.max_attempts:
            retry_at = utcnow() + self.policy.backoff(claimed.attempt)
        if not delivered:
            self._logger.warning(
                "webhook_delivery_failed",
                delivery_id=str(claimed.id),
                endpoint_id=str(claimed.endpoint_id),
                event_type=claimed.event_type,
                attempt=claimed.attempt,
                status_code=status,
                error=error,
                will_retry=retry_at is not None,
            )
        return store.Attempted(
            claimed=claimed, delivered=delivered, status_code=status, error=error, retry_at=retry_at
        )

    async def _post(
        self, client: httpx.AsyncClient, claimed: store.Claimed
    ) -> tuple[int | None, str | None]:
        """(HTTP status, None) when an answer came, else (None, a short safe reason)."""
        secret = self._cipher.open(claimed.sealed_secret, context=f"webhook:{claimed.endpoint_id}")
        if isinstance(secret, Failure):
            return None, "the signing secret could not be opened"
        match parse_destination(claimed.url):
            case Failure(error):
                return None, f"url refused: {error.code}"
            case Success(destination):
                pass
        match await self._guard.resolve(destination):
            case Failure(error):
                return None, f"address refused: {error.code}"
            case Success(address):
                pass
        body = json.dumps(claimed.payload, separators=(",", ":")).encode()
        request = _pinned_request(client, claimed, address, body, secret.value)
        if destination.scheme == "https":
            # TLS is checked against the name, though the connection goes to the address.
            request.extensions["sni_hostname"] = destination.host
        try:
            async with asyncio.timeout(self.policy.timeout_seconds):
                response = await client.send(request, stream=True)
                await response.aclose()  # the body is never read, nor stored
        except (httpx.TimeoutException, TimeoutError):
            return None, "timed out"
        except httpx.HTTPError as exc:
            # The type only: an exception's text may hold the URL (and a token in it).
            return None, f"connection failed ({type(exc).__name__})"
        if 300 <= response.status_code < 400:
            return response.status_code, f"redirect not followed (HTTP {response.status_code})"
        if not 200 <= response.status_code < 300:
            return response.status_code, f"HTTP {response.status_code}"
        return response.status_code, None

    async def _record(self, attempted: list[store.Attempted]) -> None:
        now = utcnow()
        try:
            async with self._database.transaction() as session:
                delivered = []
                for outcome in attempted:
                    if not await store.record(session, outcome, now=now):
                        continue  # the lease ran out and another attempt owns the row now
                    if outcome.delivered:
                        delivered.append(outcome.claimed.endpoint_id)
                    elif outcome.retry_at is None:
                        await self._count_failure(session, outcome, now)
                await store.reset_failures(session, delivered)
        except DB_ERRORS as exc:
            # The attempts stay counted; their rows are due again when the lease ends.
            self._logger.error("webhook_outcome_lost", code=classify(exc).code)

    async def _count_failure(
        self, session: AsyncSession, outcome: store.Attempted, now: datetime
    ) -> None:
        endpoint_id = outcome.claimed.endpoint_id
        reason = (
            f"{self.policy.disable_after} deliveries in a row failed "
            f"(last: {outcome.error or 'failed'})"
        )
        if await store.count_failure(
            session, endpoint_id, disable_after=self.policy.disable_after, reason=reason, now=now
        ):
            self._logger.warning(
                "webhook_endpoint_disabled",
                endpoint_id=str(endpoint_id),
                failures=self.policy.disable_after,
            )


def _pinned_request(
    client: httpx.AsyncClient,
    claimed: store.Claimed,
    address: IPAddress,
    body: bytes,
    secret: str,
) -> httpx.Request:
    """The POST to the checked address, with the URL's own host in the Host header."""
    url = httpx.URL(claimed.url)
    headers = {
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": f"Dashtam-Webhooks/{__version__}",
        SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
        "Dashtam-Event-Id": str(claimed.event_id),
        "Dashtam-Event-Type": claimed.event_type,
        "Dashtam-Delivery-Id": str(claimed.id),
        "Dashtam-Delivery-Attempt": str(claimed.attempt),
    }
    return client.build_request(
        "POST", url.copy_with(host=str(address)), content=body, headers=headers
    )
