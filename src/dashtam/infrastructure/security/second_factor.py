"""Adapters of the second-factor ports: TOTP by ``pyotp``, QR codes by ``segno``, and the
random tickets and recovery codes of a log-in."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime

import pyotp
import segno

from dashtam.infrastructure.security.keys import derive_key, keyed_digest

MFA_TICKET_LABEL = "dashtam/auth/mfa-ticket/v1"
# Crockford's base32: no i, l, o or u, so a code read aloud or off paper is not misread.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_READS_AS = str.maketrans({"i": "1", "l": "1", "o": "0"})
_SELECTOR_LENGTH = 4
_SECRET_LENGTH = 12  # 60 bits, stored with the password hasher (800-63B-4 3.1.2.1)
_GROUP = 4


class PyotpTotp:
    """The ``TotpAlgorithm`` port, to RFC 6238's defaults that every authenticator app uses."""

    def new_secret(self) -> str:
        return pyotp.random_base32(32)  # 160 bits: RFC 4226's recommended HMAC-SHA1 key size

    def provisioning_uri(self, secret: str, *, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def qr_code_svg(self, uri: str) -> str:
        return segno.make(uri, error="m", micro=False).svg_inline(scale=4)

    def matching_step(self, secret: str, code: str, *, now: datetime) -> int | None:
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        current = totp.timecode(now)
        matched: int | None = None
        # Every candidate is compared, matched or not: the time taken says nothing.
        for step in (current - 1, current, current + 1):
            if step >= 0 and hmac.compare_digest(totp.generate_otp(step), code):
                matched = step
        return matched


class RandomMfaSecrets:
    """The ``MfaSecrets`` port: tickets keyed by a derived key, codes in Crockford base32."""

    def __init__(self, *, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is required")
        self._ticket_key = derive_key(secret_key, MFA_TICKET_LABEL)

    def new_ticket(self) -> str:
        return secrets.token_urlsafe(32)

    def ticket_digest(self, ticket: str) -> str:
        # A JSON body may carry lone surrogates: such a ticket matches nothing (401), no 500.
        return keyed_digest(
            self._ticket_key, ticket.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        )

    def new_recovery_code(self) -> tuple[str, str, str]:
        length = _SELECTOR_LENGTH + _SECRET_LENGTH
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        shown = "-".join(raw[i : i + _GROUP] for i in range(0, length, _GROUP))
        return shown, raw[:_SELECTOR_LENGTH], raw[_SELECTOR_LENGTH:]

    def parse_recovery_code(self, text: str) -> tuple[str, str] | None:
        compact = "".join(text.split()).replace("-", "").lower().translate(_READS_AS)
        if len(compact) != _SELECTOR_LENGTH + _SECRET_LENGTH or any(
            char not in _ALPHABET for char in compact
        ):
            return None
        return compact[:_SELECTOR_LENGTH], compact[_SELECTOR_LENGTH:]
