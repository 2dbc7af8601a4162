"""Opaque pagination cursors: URL-safe base64 without padding."""

from __future__ import annotations

import base64
import binascii


def encode_cursor_bytes(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor_bytes(text: str) -> bytes | None:
    """The bytes of a cursor, or None when it is not one of ours."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
