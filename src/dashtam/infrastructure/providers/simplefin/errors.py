"""Errors of the SimpleFIN adapter, each with a stable code.

Messages are fixed sentences: they never quote a setup token, a claim URL or an access URL,
and never an exception's text (which may hold the URL the library was asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dashtam.core.errors import InfrastructureError, ValidationError


@dataclass(frozen=True, slots=True)
class InvalidSetupTokenError(ValidationError):
    """The setup token is not base64 text."""

    default_code: ClassVar[str] = "invalid_setup_token"


@dataclass(frozen=True, slots=True)
class InvalidClaimUrlError(InvalidSetupTokenError):
    """The setup token decodes to something that is not an absolute http(s) URL."""

    default_code: ClassVar[str] = "setup_token_not_a_url"


@dataclass(frozen=True, slots=True)
class InsecureClaimUrlError(InvalidSetupTokenError):
    """The setup token points to a plain-http URL (allowed on loopback for tests only)."""

    default_code: ClassVar[str] = "setup_token_not_https"


@dataclass(frozen=True, slots=True)
class SetupTokenClaimedError(ValidationError):
    """The bridge answered 403: the token was already claimed (or never existed)."""

    default_code: ClassVar[str] = "setup_token_claimed"


@dataclass(frozen=True, slots=True)
class FetchWindowError(ValidationError):
    """The requested window is empty, naive or longer than the bridge allows."""

    default_code: ClassVar[str] = "invalid_fetch_window"


@dataclass(frozen=True, slots=True)
class BridgeError(InfrastructureError):
    """The bridge failed or answered something the protocol does not allow."""

    default_code: ClassVar[str] = "bridge_error"


@dataclass(frozen=True, slots=True)
class BridgeUnreachableError(BridgeError):
    """No connection to the bridge (refused, DNS, TLS)."""

    default_code: ClassVar[str] = "bridge_unreachable"


@dataclass(frozen=True, slots=True)
class BridgeTimeoutError(BridgeError):
    """The bridge did not answer in time."""

    default_code: ClassVar[str] = "bridge_timeout"


@dataclass(frozen=True, slots=True)
class BridgeUnavailableError(BridgeError):
    """The bridge answered 5xx."""

    default_code: ClassVar[str] = "bridge_unavailable"


@dataclass(frozen=True, slots=True)
class BridgeBadResponseError(BridgeError):
    """The bridge answered with a status or body the protocol does not describe."""

    default_code: ClassVar[str] = "bridge_bad_response"


@dataclass(frozen=True, slots=True)
class BridgeResponseTooLargeError(BridgeBadResponseError):
    """The body is over the size limit; it is not read further."""

    default_code: ClassVar[str] = "bridge_response_too_large"


@dataclass(frozen=True, slots=True)
class BridgePaymentRequiredError(BridgeError):
    """402 on the access URL: the user's bridge subscription needs paying."""

    default_code: ClassVar[str] = "bridge_payment_required"


@dataclass(frozen=True, slots=True)
class BridgeAccessRevokedError(BridgeError):
    """401/403 on the access URL: the user revoked the access (or it was never valid)."""

    default_code: ClassVar[str] = "bridge_access_revoked"


@dataclass(frozen=True, slots=True)
class BridgeAddressRefusedError(ValidationError):
    """The server's host resolves to an address Dashtam must not reach (SSRF rules)."""

    default_code: ClassVar[str] = "bridge_address_not_allowed"
