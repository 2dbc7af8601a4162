"""The ``IdentifierDigest`` port: HMAC-SHA256 under a key derived for this purpose only."""

from __future__ import annotations

from dashtam.infrastructure.security.keys import AUDIT_IDENTIFIER_LABEL, derive_key, keyed_digest


class HmacIdentifierDigest:
    """What a caller typed, made unreadable but still comparable by whoever holds the key.

    Unkeyed SHA-256 would not do: a typed passphrase can be recovered from it by guessing.
    """

    def __init__(self, *, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is required")
        self._key = derive_key(secret_key, AUDIT_IDENTIFIER_LABEL)

    def digest(self, value: str) -> str:
        # Text from a JSON body may hold lone surrogates, which strict UTF-8 cannot encode;
        # escaping them keeps every input digestible (and distinct) instead of raising.
        text = value.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
        return keyed_digest(self._key, text)
