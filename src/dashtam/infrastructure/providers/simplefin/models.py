"""The two URLs of the protocol, parsed: the claim URL (in a setup token) and the access URL."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.providers.live import AccessUrl
from dashtam.infrastructure.providers.simplefin.errors import (
    BridgeBadResponseError,
    InsecureClaimUrlError,
    InvalidClaimUrlError,
    InvalidSetupTokenError,
)

# A real token is ~100 characters; anything this long is not one (and not worth decoding).
MAX_SETUP_TOKEN_CHARS = 4096


@dataclass(frozen=True, slots=True)
class ClaimUrl:
    """Where a setup token is claimed. Its path holds the one-time secret, so repr hides it."""

    url: str = field(repr=False)
    host: str

    def __repr__(self) -> str:
        return f"ClaimUrl(host={self.host!r})"


@dataclass(frozen=True, slots=True)
class AccessEndpoint:
    """An access URL split for a request: the base without credentials, and the credentials."""

    base_url: str
    host: str
    username: str = field(repr=False)
    password: str = field(repr=False)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scheme_allowed(scheme: str, host: str, *, allow_loopback_http: bool) -> bool:
    return scheme == "https" or (scheme == "http" and allow_loopback_http and is_loopback(host))


def parse_setup_token(token: str, *, allow_loopback_http: bool) -> Result[ClaimUrl, Error]:
    """Decode a setup token (base64 of a claim URL) and check where it points."""
    text = "".join(token.split())
    if not text or len(text) > MAX_SETUP_TOKEN_CHARS:
        return Failure(InvalidSetupTokenError("The setup token is empty or too long."))
    try:
        # Bridges use the standard alphabet; the URL-safe one is accepted, padding may be lost.
        padded = text + "=" * (-len(text) % 4)
        decoded = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        url = decoded.decode("utf-8").strip()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return Failure(InvalidSetupTokenError("The setup token is not valid base64 text."))
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        host = None
    if not host or parts.scheme not in ("http", "https") or any(c.isspace() for c in url):
        return Failure(InvalidClaimUrlError("The setup token does not hold a claim URL."))
    if parts.username is not None or parts.password is not None:
        return Failure(InvalidClaimUrlError("The setup token does not hold a claim URL."))
    if not _scheme_allowed(parts.scheme, host, allow_loopback_http=allow_loopback_http):
        return Failure(InsecureClaimUrlError("The setup token's claim URL is not https."))
    return Success(ClaimUrl(url=url, host=host))


def parse_access_url(
    access_url: AccessUrl, *, allow_loopback_http: bool
) -> Result[AccessEndpoint, Error]:
    """Split an access URL into a credential-free base and its basic-auth credentials."""
    bad = BridgeBadResponseError("The bridge's access URL is not a usable https URL.")
    try:
        parts = urlsplit(access_url.reveal().strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return Failure(bad)
    if not host or parts.username is None or parts.password is None:
        return Failure(bad)
    if not _scheme_allowed(parts.scheme, host, allow_loopback_http=allow_loopback_http):
        return Failure(bad)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return Success(
        AccessEndpoint(
            base_url=base,
            host=host,
            username=unquote(parts.username),
            password=unquote(parts.password),
        )
    )
