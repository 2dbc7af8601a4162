"""Where a webhook may be sent: the URL's form, and the addresses it may resolve to.

The address rules (``domain.addresses``) are the server-side request forgery guard: an
endpoint must not make Dashtam post to itself, its network or a cloud metadata service.
``DestinationGuard`` (a port) resolves a host and applies them to every address it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.addresses import IPAddress
from dashtam.domain.webhooks.entities import MAX_URL_LENGTH


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
    if not _resolvable_name(host):
        return _invalid(f"the url's host {quoted(host[:100])} is not a valid name", "invalid_url")
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


def _resolvable_name(host: str) -> bool:
    """Whether the resolver can be asked for ``host``: it encodes names to IDNA first, which
    fails on a lone surrogate (valid in JSON), an empty or over-long label."""
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


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
