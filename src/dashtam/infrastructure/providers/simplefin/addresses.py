"""Where the SimpleFIN client may connect: the SSRF rules, applied to every request.

A setup token is text a user pastes; its claim URL, and the access URL the server answers,
could name Dashtam's own network. Each request resolves the host, refuses it if any address
is not public (``domain.addresses``), and connects to the address it checked, so that a name
that resolves differently a moment later (DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import socket

import httpx

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.addresses import IPAddress, literal_address, refused_address
from dashtam.infrastructure.providers.simplefin.errors import (
    BridgeAddressRefusedError,
    BridgeUnreachableError,
)

RESOLVE_TIMEOUT_SECONDS = 5.0


async def checked_address(
    url: httpx.URL, *, allow_private: bool, allow_loopback: bool
) -> Result[IPAddress, Error]:
    host = url.host
    literal = literal_address(host)
    if literal is not None:
        found = [literal]
    else:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, url.port or 443, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
                )
        except (OSError, TimeoutError, UnicodeError):
            infos = []
        found = [a for a in (literal_address(str(i[4][0])) for i in infos) if a is not None]
    if not found:
        return Failure(
            BridgeUnreachableError("The SimpleFIN server's name does not resolve.", retryable=True)
        )
    for address in found:
        if allow_private or (allow_loopback and address.is_loopback):
            continue
        if refused_address(address) is not None:
            return Failure(
                BridgeAddressRefusedError(
                    "The SimpleFIN server's address is not public (private, loopback or "
                    "link-local); DASHTAM_SYNC_ALLOW_PRIVATE allows such a server."
                )
            )
    return Success(found[0])


def pinned(request: httpx.Request, address: IPAddress) -> httpx.Request:
    """``request`` sent to ``address``: the Host header and TLS still name the server."""
    url = request.url
    headers = request.headers.copy()  # case-insensitive: one Host header, the server's name
    headers["Host"] = url.netloc.decode("ascii")
    target = httpx.Request(request.method, url.copy_with(host=str(address)), headers=headers)
    if url.scheme == "https":
        target.extensions["sni_hostname"] = url.host
    target.extensions.update({k: v for k, v in request.extensions.items() if k != "sni_hostname"})
    return target
