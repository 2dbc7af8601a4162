"""Ports of the second factor: the TOTP algorithm, and the secrets a log-in hands out."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class TotpAlgorithm(Protocol):
    """RFC 6238 TOTP: SHA-1, 6 digits, 30-second steps, one step of drift either way."""

    def new_secret(self) -> str:
        """A fresh shared secret, base32 (what authenticator apps expect)."""
        ...

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        """The ``otpauth://totp/...`` URI an authenticator app scans."""
        ...

    def qr_code_svg(self, uri: str) -> str:
        """``uri`` as an SVG QR code."""
        ...

    def matching_step(self, secret: str, code: str, *, now: datetime) -> int | None:
        """The time step whose code ``code`` is (within one step of ``now``), else None."""
        ...


class MfaSecrets(Protocol):
    """Tickets of pending log-ins and recovery codes: random, and stored only as digests."""

    def new_ticket(self) -> str: ...

    def ticket_digest(self, ticket: str) -> str: ...

    def new_recovery_code(self) -> tuple[str, str, str]:
        """A recovery code as shown to the user, its public selector and its secret part."""
        ...

    def parse_recovery_code(self, text: str) -> tuple[str, str] | None:
        """(selector, secret part) of a typed code, forgiving case, spaces and dashes."""
        ...
