"""Provider credentials sealed with AES-256-GCM under keys from ``DASHTAM_CREDENTIALS_KEY``.

A sealed value reads ``v1.<key id>.<nonce>.<ciphertext and tag>`` (base64url, no padding): the
key id names the key that sealed it, so several keys can be configured while they rotate (the
first seals, all open). The caller's ``context`` (e.g. ``connection:<uuid>``) is authenticated
as associated data, so a value copied to another row does not open there.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dashtam.core.config import Settings
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.protocols.credentials import CredentialsUnreadableError
from dashtam.infrastructure.security.keys import derive_key, key_id

SETTING = "DASHTAM_CREDENTIALS_KEY"
CREDENTIALS_LABEL = "dashtam/credentials/aes-256-gcm/v1"
VERSION = "v1"
DERIVED = "derived"
KEY_BYTES = 32
NONCE_BYTES = 12  # 96 bits, random per seal: GCM's safe bound is 2**32 seals per key
TAG_BYTES = 16

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")
_BASE64_KEY = re.compile(r"[A-Za-z0-9_+/-]{43}=?")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_KEY_ID = re.compile(r"[0-9a-f]{16}")


def parse_key(text: str, *, position: int) -> bytes:
    """32 key bytes from hex or base64 (url-safe or standard); the error never holds the text."""
    text = text.strip()
    if _HEX_KEY.fullmatch(text):
        return bytes.fromhex(text)
    if _BASE64_KEY.fullmatch(text):
        raw = base64.urlsafe_b64decode(text.rstrip("=").replace("+", "-").replace("/", "_") + "=")
        if len(raw) == KEY_BYTES:
            return raw
    raise ValueError(
        f"{SETTING}: key {position} is not 32 bytes as base64url (43 characters) or hex (64)"
    )


def keys_from_settings(settings: Settings) -> list[bytes]:
    """The configured keys, first one sealing; unset, one derived from the secret key (HKDF).

    The word ``derived`` in the list stands for that derived key: a deployment that began on
    the default lists it after its own key until every value has been resealed.
    """
    derived = derive_key(settings.secret_key.get_secret_value(), CREDENTIALS_LABEL)
    configured = settings.credentials_key
    text = configured.get_secret_value() if configured is not None else ""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return [
        derived if part.lower() == DERIVED else parse_key(part, position=index)
        for index, part in enumerate(parts, start=1)
    ] or [derived]


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    """Strict base64url: one spelling per byte string, so no two sealed texts are the same value."""
    if not _BASE64URL.fullmatch(text):
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if _encode(data) == text else None


def _associated_data(context: str) -> bytes:
    # The version is bound too: a later format can never be mistaken for this one.
    return f"dashtam/credentials/{VERSION}\x00{context}".encode()


def _unreadable(reason: str, message: str, **details: str) -> Failure[Error]:
    return Failure(CredentialsUnreadableError(message, details={"reason": reason, **details}))


class AesGcmCredentialCipher:
    """The ``CredentialCipher`` port on AES-256-GCM; ``repr`` shows key ids only."""

    __slots__ = ("_ciphers", "_current")

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError(f"{SETTING}: at least one key is required")
        if any(len(key) != KEY_BYTES for key in keys):
            raise ValueError(f"{SETTING}: every key must be {KEY_BYTES} bytes")
        # AESGCM objects hold the keys; dict order keeps the configured order for reports.
        self._ciphers = {key_id(key): AESGCM(key) for key in keys}
        self._current = key_id(keys[0])

    @classmethod
    def from_settings(cls, settings: Settings) -> AesGcmCredentialCipher:
        return cls(keys_from_settings(settings))

    def __repr__(self) -> str:
        return f"AesGcmCredentialCipher(current={self._current!r}, keys={self.key_ids!r})"

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key that opens, the sealing one first."""
        return tuple(self._ciphers)

    def seal(self, plaintext: str, *, context: str) -> str:
        if not context:
            raise ValueError("a credential is sealed for a context (where it is stored)")
        try:
            data = plaintext.encode("utf-8")
        except UnicodeEncodeError:
            # The codec's own message quotes the offending character of the secret.
            raise ValueError("the credential is not valid text") from None
        nonce = os.urandom(NONCE_BYTES)
        body = self._ciphers[self._current].encrypt(nonce, data, _associated_data(context))
        return ".".join((VERSION, self._current, _encode(nonce), _encode(body)))

    def open(self, sealed: str, *, context: str) -> Result[str, Error]:
        try:
            return self._open(sealed, context)
        except (ValueError, TypeError, OverflowError):
            # Whatever the input, the caller gets a failure, never an exception quoting it.
            return _unreadable("malformed", "the stored credential is not a sealed value")

    def _open(self, sealed: str, context: str) -> Result[str, Error]:
        parts = sealed.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            return _unreadable("malformed", "the stored credential is not a sealed value")
        _, sealed_key_id, nonce_text, body_text = parts
        cipher = self._ciphers.get(sealed_key_id)
        if cipher is None:
            known = {"key_id": sealed_key_id} if _KEY_ID.fullmatch(sealed_key_id) else {}
            return _unreadable(
                "unknown_key",
                "the stored credential was sealed under a key not configured",
                **known,
            )
        nonce, body = _decode(nonce_text), _decode(body_text)
        if nonce is None or body is None or len(nonce) != NONCE_BYTES or len(body) < TAG_BYTES:
            return _unreadable("malformed", "the stored credential is not a sealed value")
        try:
            data = cipher.decrypt(nonce, body, _associated_data(context))
        except InvalidTag:
            return _unreadable(
                "rejected", "the stored credential did not authenticate (altered or misplaced)"
            )
        return Success(data.decode("utf-8"))

    def needs_rotation(self, sealed: str) -> bool:
        # Anything not in this format under the current key is due: a rotation run then
        # re-seals it, or reports it unreadable, instead of skipping it silently.
        parts = sealed.split(".")
        return len(parts) != 4 or parts[0] != VERSION or parts[1] != self._current

    def reseal(self, sealed: str, *, context: str) -> Result[str, Error]:
        match self.open(sealed, context=context):
            case Success(plaintext):
                if not self.needs_rotation(sealed):
                    return Success(sealed)
                return Success(self.seal(plaintext, context=context))
            case Failure() as failure:
                return failure
