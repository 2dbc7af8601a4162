"""Application keys: explicit settings, or derived from ``DASHTAM_SECRET_KEY`` by HKDF.

Each purpose has its own HKDF label, so knowing one derived key tells nothing about another
or about the secret key itself. A development setup therefore needs only the secret key;
production may set every key apart (and should keep the audit keys off the database host).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

AUDIT_MAC_LABEL = "dashtam/audit/mac/v1"
AUDIT_SIGNING_LABEL = "dashtam/audit/checkpoint-signing/v1"
AUDIT_IDENTIFIER_LABEL = "dashtam/audit/identifier-digest/v1"
PERSONAL_TOKEN_LABEL = "dashtam/auth/personal-access-token/v1"  # noqa: S105 - a label


def derive_key(secret: str, label: str, *, length: int = 32) -> bytes:
    """A key for one purpose (``label``) derived from ``secret`` (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label.encode()).derive(
        secret.encode()
    )


def key_id(key: bytes) -> str:
    """A short public name for a key, stored beside what it protects (so keys can rotate)."""
    return hmac.new(key, b"dashtam key id", hashlib.sha256).hexdigest()[:16]


def keyed_digest(key: bytes, value: str) -> str:
    """HMAC-SHA256 of ``value``: lets equal values be matched without storing them."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def load_signing_key(value: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM block or a 32-byte seed (hex or urlsafe base64)."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("DASHTAM_AUDIT_SIGNING_KEY is not an Ed25519 private key")
        return key
    seed: bytes | None = None
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        try:
            seed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            seed = None
    if seed is None or len(seed) != 32:
        raise ValueError(
            "DASHTAM_AUDIT_SIGNING_KEY must be a PEM Ed25519 key or a 32-byte seed (hex or base64)"
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The raw public key as hex: what an auditor needs to check checkpoint signatures."""
    return (
        key.public_key()
        .public_bytes(encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw)
        .hex()
    )
