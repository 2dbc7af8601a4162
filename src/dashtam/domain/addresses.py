"""Which network addresses Dashtam may reach on a user's behalf (the SSRF rules).

A URL a user hands over (a webhook endpoint, a SimpleFIN setup token) must not make Dashtam
connect to itself, its own network or a cloud metadata service.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not flagged by every ``ipaddress`` version: carrier-grade NAT and NAT64's well-known prefix
# (which reaches IPv4 space, private parts included, through a translator).
_EXTRA_REFUSED: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (ipaddress.ip_network("64:ff9b::/96"), "NAT64"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "NAT64"),
)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")


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


def literal_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets and a zone id allowed), or None for a name."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return None
