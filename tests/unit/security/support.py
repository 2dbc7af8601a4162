"""Fixed credentials keys for the cipher's tests (never used outside tests)."""

from __future__ import annotations

import base64

from dashtam.core.config import Settings
from dashtam.infrastructure.security.credentials import AesGcmCredentialCipher

OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(100, 132))
OTHER_KEY = bytes(range(200, 232))
SECRET_URL = "https://user-7f3a:pa55-9c1e@bridge.example.org/simplefin"
CONTEXT = "connection:0196a1b2-0000-7000-8000-000000000001"


def b64url(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def key_spellings(key: bytes) -> list[str]:
    """Every way a key could leak into text: raw, hex, base64url, standard base64."""
    return [
        key.decode("latin-1"),
        key.hex(),
        b64url(key),
        base64.b64encode(key).decode().rstrip("="),
    ]


def cipher(*keys: bytes) -> AesGcmCredentialCipher:
    return AesGcmCredentialCipher(list(keys))


def settings_with(credentials_key: str | None, secret: str = "s" * 40) -> Settings:
    return Settings(
        _env_file=None,
        DASHTAM_SECRET_KEY=secret,
        DASHTAM_CREDENTIALS_KEY=credentials_key,
        DASHTAM_ENV="test",
    )
