"""Where a webhook may be sent: the URL's form, and the addresses it may resolve to.

The address rules are the server-side request forgery guard: an endpoint must not make
Dashtam post to itself, its network or a cloud metadata service. ``DestinationGuard`` (a port)
resolves a host and applies ``refused_address`` to every address it gets.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.webhooks.entities import MAX_URL_LENGTH

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not flagged by every ``ipaddress`` version: carrier-grade NAT and NAT64's well-known prefix
# (which reaches IPv4 space, private parts included, through a translator).
_EXTRA_REFUSED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (ipaddress.ip_network("64:ff9b::/96"), "NAT64"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "NAT64"),
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked URL's parts: the host to resolve and the port to connect to."""

    url: str
    scheme: str
    host: str
    port: int


def parse_destination(url: str) -> Result[Destination, Error]:
    """The URL's destination, if its form is acceptable (http(s), a host, no credentials)."""
    if len(url) > MAX_URL_LENGTH:
        return _invalid(f"the url is longer than {MAX_URL_LENGTH} characters", "url_too_long")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return _invalid("the url holds spaces or control characters", "invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _invalid(f"{quoted(url[:100])} is not a valid url", "invalid_url")
    if parts.scheme not in ("http", "https"):
        return _invalid("the url must start with https:// or http://", "unsupported_url_scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        # Credentials in a URL end up in logs and proxies; the signature authenticates us.
        return _invalid("the url must not hold a user name or password", "url_has_credentials")
    host = _host_of(parts)
    if not host:
        return _invalid("the url has no host", "invalid_url")
    return Success(
        Destination(
            url=url,
            scheme=parts.scheme,
            host=host,
            port=port or (443 if parts.scheme == "https" else 80),
        )
    )


def _host_of(parts: SplitResult) -> str:
    return (parts.hostname or "").rstrip(".").lower()


def is_local_name(host: str) -> bool:
    return host in _LOCAL_NAMES or host.endswith(".localhost")


def refused_address(address: IPAddress) -> str | None:
    """Why Dashtam must not connect to ``address`` (None: a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:  # ::ffff:10.0.0.1 reaches 10.0.0.1
            return refused_address(embedded)
        if address.teredo is not None:
            return "Teredo"
    for network, reason in _EXTRA_REFUSED:
        if address.version == network.version and address in network:
            return reason
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def ssrf_refusal(host: str, reason: str) -> Failure[Error]:
    """The refusal of a destination that resolves where Dashtam must not post."""
    return Failure(
        ValidationError(
            f"the url's host {quoted(host[:100])} is {reason}: webhooks go to public addresses "
            "only (DASHTAM_WEBHOOKS_ALLOW_PRIVATE allows private ones)",
            code="webhook_url_not_allowed",
            details={"field": "url"},
        )
    )


def _invalid(message: str, code: str) -> Failure[Error]:
    return Failure(ValidationError(message, code=code, details={"field": "url"}))


class DestinationGuard(Protocol):
    """Resolves a destination and refuses addresses the SSRF rules forbid."""

    async def resolve(self, destination: Destination) -> Result[IPAddress, Error]:
        """The address to connect to (every address the host has must be allowed)."""
        ...
