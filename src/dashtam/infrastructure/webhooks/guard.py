"""The SSRF guard: resolve a webhook's host and refuse private, local and special addresses.

It runs when an endpoint is registered or changed, and again before every delivery (a name
may resolve elsewhere later: DNS rebinding). The sender then connects to the address this
check returned, never to a second lookup of the name, so what was checked is what is reached.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence

from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.addresses import IPAddress, is_local_name, literal_address, refused_address
from dashtam.domain.webhooks.destinations import Destination, ssrf_refusal

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
RESOLVE_TIMEOUT_SECONDS = 5.0


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address ``host`` resolves to (the event loop runs getaddrinfo in a thread)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


class ResolvingGuard:
    """``allow_private``: private and loopback addresses pass (tests, a trusted LAN)."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
        self._allow_private = allow_private
        self._resolver = resolver

    async def resolve(self, destination: Destination) -> Result[IPAddress, Error]:
        host = destination.host
        if not self._allow_private and is_local_name(host):
            return ssrf_refusal(host, "a local name")
        literal = literal_address(host)
        if literal is not None:
            return self._checked(host, [literal])
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                found = await self._resolver(host, destination.port)
        except (OSError, TimeoutError, UnicodeError):
            found = []
        addresses = [a for a in (literal_address(text) for text in found) if a is not None]
        if not addresses:
            return Failure(
                ValidationError(
                    f"the url's host {quoted(host[:100])} does not resolve",
                    code="webhook_host_unresolvable",
                    details={"field": "url"},
                )
            )
        return self._checked(host, addresses)

    def _checked(self, host: str, addresses: Sequence[IPAddress]) -> Result[IPAddress, Error]:
        if not self._allow_private:
            # Every address, not only the first: a name with one public and one private
            # address would otherwise reach the private one whenever the order changes.
            for address in addresses:
                reason = refused_address(address)
                if reason is not None:
                    return ssrf_refusal(host, f"{reason} ({address})")
        return Success(addresses[0])
