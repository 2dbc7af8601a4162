"""SimpleFIN client: claims a setup token once, then fetches Account Sets by windows.

Requests go straight to an httpx transport, not through ``httpx.AsyncClient``: the client
logs every request URL at INFO, and the claim URL is itself the secret (its path is the
one-time token). Going below it also means no cookie jar, no proxy from the environment
and no redirects: a redirect would carry the credentials somewhere the user did not choose.
"""

from __future__ import annotations

import asyncio
import base64
import math
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import httpx

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.live import (
    MAX_FETCH_WINDOW,
    AccessGrant,
    AccessUrl,
    SourceSnapshot,
)
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.providers.simplefin.addresses import checked_address, pinned
from dashtam.infrastructure.providers.simplefin.errors import (
    BridgeAccessRevokedError,
    BridgeBadResponseError,
    BridgePaymentRequiredError,
    BridgeResponseTooLargeError,
    BridgeTimeoutError,
    BridgeUnavailableError,
    BridgeUnreachableError,
    FetchWindowError,
    SetupTokenClaimedError,
)
from dashtam.infrastructure.providers.simplefin.models import (
    AccessEndpoint,
    parse_access_url,
    parse_setup_token,
)
from dashtam.infrastructure.providers.simplefin.payload import parse_account_set

DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# An access URL is a short line; a claim answer longer than this is not one.
MAX_CLAIM_RESPONSE_BYTES = 4096
# Version 2 adds ``errlist``; servers that only speak version 1 ignore the parameter.
PROTOCOL_VERSION = "2"


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes


class _TooLargeError(Exception):
    pass


class SimplefinClient:
    """The ``LiveSource`` for SimpleFIN servers (the SimpleFIN Bridge, or a bank's own)."""

    def __init__(
        self,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_loopback_http: bool = False,
        allow_private: bool = False,
        logger: LoggerProtocol | None = None,
    ) -> None:
        self._timeout = timeout_seconds
        self._max_bytes = max_response_bytes
        self._allow_loopback_http = allow_loopback_http
        self._allow_private = allow_private
        self._logger: LoggerProtocol = logger or get_logger("dashtam.providers.simplefin")

    async def claim(self, setup_token: str) -> Result[AccessGrant, Error]:
        parsed = parse_setup_token(setup_token, allow_loopback_http=self._allow_loopback_http)
        if isinstance(parsed, Failure):
            self._logger.warning("simplefin_claim_refused", code=parsed.error.code)
            return parsed
        claim = parsed.value
        reply = await self._exchange(
            "POST", claim.url, headers={"Content-Length": "0"}, limit=MAX_CLAIM_RESPONSE_BYTES
        )
        result = self._grant(reply)
        if isinstance(result, Failure):
            self._logger.warning("simplefin_claim_failed", code=result.error.code, host=claim.host)
        else:
            self._logger.info("simplefin_claimed", host=claim.host)
        return result

    def _grant(self, reply: Result[_Reply, Error]) -> Result[AccessGrant, Error]:
        if isinstance(reply, Failure):
            return reply
        status, body = reply.value.status, reply.value.body
        if status == 403:
            return Failure(
                SetupTokenClaimedError(
                    "This setup token was already claimed or does not exist. If you did not "
                    "claim it, disable it at your SimpleFIN server: someone else may have it."
                )
            )
        if status != 200:
            return Failure(_status_error(status))
        try:
            access_url = AccessUrl(body.decode("utf-8").strip())
        except UnicodeDecodeError:
            return Failure(BridgeBadResponseError("The bridge's claim answer is not text."))
        checked = parse_access_url(access_url, allow_loopback_http=self._allow_loopback_http)
        if isinstance(checked, Failure):
            return checked
        return Success(AccessGrant(access_url=access_url))

    async def fetch(
        self,
        access: AccessGrant,
        *,
        start: datetime,
        end: datetime,
        pending: bool = True,
    ) -> Result[SourceSnapshot, Error]:
        window = _check_window(start, end)
        if isinstance(window, Failure):
            return window
        parsed = parse_access_url(access.access_url, allow_loopback_http=self._allow_loopback_http)
        if isinstance(parsed, Failure):
            return parsed
        endpoint = parsed.value
        params = {
            "start-date": str(math.floor(start.timestamp())),
            # end-date is exclusive: round up so the caller's last instant stays inside.
            "end-date": str(math.ceil(end.timestamp())),
            "version": PROTOCOL_VERSION,
        }
        if pending:
            params["pending"] = "1"
        url = f"{endpoint.base_url}/accounts?{urlencode(params)}"
        reply = await self._exchange("GET", url, headers=_auth_headers(endpoint))
        result = _snapshot(reply)
        match result:
            case Success(snapshot):
                self._logger.info(
                    "simplefin_fetched",
                    host=endpoint.host,
                    accounts=len(snapshot.accounts),
                    messages=len(snapshot.messages),
                )
            case Failure(error):
                self._logger.warning("simplefin_fetch_failed", code=error.code, host=endpoint.host)
        return result

    async def _exchange(
        self, method: str, url: str, *, headers: dict[str, str], limit: int | None = None
    ) -> Result[_Reply, Error]:
        """One request, bounded in time as a whole (a server that trickles bytes is cut too)."""
        request = httpx.Request(method, url, headers=headers)
        request.extensions["timeout"] = httpx.Timeout(self._timeout).as_dict()
        limit = self._max_bytes if limit is None else min(limit, self._max_bytes)
        address = await checked_address(
            request.url,
            allow_private=self._allow_private,
            allow_loopback=self._allow_loopback_http,
        )
        if isinstance(address, Failure):
            return address
        request = pinned(request, address.value)
        try:
            async with asyncio.timeout(self._timeout):
                async with httpx.AsyncHTTPTransport(verify=True, retries=0) as transport:
                    response = await transport.handle_async_request(request)
                    try:
                        body = await _read_limited(response, limit)
                    finally:
                        await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return Failure(
                BridgeTimeoutError("The SimpleFIN server did not answer in time.", retryable=True)
            )
        except httpx.TransportError:
            return Failure(
                BridgeUnreachableError("The SimpleFIN server could not be reached.", retryable=True)
            )
        except _TooLargeError:
            return Failure(
                BridgeResponseTooLargeError(
                    "The SimpleFIN server's answer is over the size limit.",
                    details={"limit_bytes": limit},
                )
            )
        return Success(_Reply(status=response.status_code, body=body))


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLargeError
    chunks: list[bytes] = []
    size = 0
    assert isinstance(response.stream, httpx.AsyncByteStream)
    async for chunk in response.stream:
        size += len(chunk)
        if size > limit:
            raise _TooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _check_window(start: datetime, end: datetime) -> Result[None, Error]:
    if start.utcoffset() is None or end.utcoffset() is None:
        return Failure(FetchWindowError("The window's bounds must carry a time zone."))
    if end <= start:
        return Failure(FetchWindowError("The window must end after it starts."))
    if end - start > MAX_FETCH_WINDOW:
        return Failure(
            FetchWindowError(
                "The window is longer than the SimpleFIN limit; fetch it in parts.",
                details={"max_days": MAX_FETCH_WINDOW.days},
            )
        )
    return Success(None)


def _auth_headers(endpoint: AccessEndpoint) -> dict[str, str]:
    pair = f"{endpoint.username}:{endpoint.password}".encode()
    return {
        "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
        "Accept": "application/json",
        "Accept-Encoding": "identity",
    }


def _snapshot(reply: Result[_Reply, Error]) -> Result[SourceSnapshot, Error]:
    if isinstance(reply, Failure):
        return reply
    status = reply.value.status
    if status == 200:
        return parse_account_set(reply.value.body)
    if status == 402:
        return Failure(
            BridgePaymentRequiredError("The SimpleFIN server asks for payment before answering.")
        )
    if status in (401, 403):
        return Failure(
            BridgeAccessRevokedError(
                "The SimpleFIN server refused the access: it was revoked or is no longer valid."
            )
        )
    return Failure(_status_error(status))


def _status_error(status: int) -> Error:
    if status >= 500:
        return BridgeUnavailableError(
            "The SimpleFIN server failed to answer.", details={"status": status}, retryable=True
        )
    return BridgeBadResponseError(
        "The SimpleFIN server answered with an unexpected status.", details={"status": status}
    )
