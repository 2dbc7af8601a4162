"""Opaque pagination cursors: URL-safe base64 without padding."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID


def encode_cursor_bytes(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor_bytes(text: str) -> bytes | None:
    """The bytes of a cursor, or None when it is not one of ours."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def encode_id_cursor(ident: UUID) -> str:
    """A cursor naming the last id of a page (lists ordered by UUIDv7 id)."""
    return encode_cursor_bytes(ident.bytes)


def decode_id_cursor(text: str) -> UUID | None:
    raw = decode_cursor_bytes(text)
    if raw is None or len(raw) != 16:
        return None
    return UUID(bytes=raw)
