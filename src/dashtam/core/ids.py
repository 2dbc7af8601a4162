"""Identifiers: UUIDv7 everywhere (time-ordered, index friendly)."""

from __future__ import annotations

from uuid import UUID

from uuid_utils.compat import uuid7


def new_id() -> UUID:
    """A new UUIDv7 as a standard-library ``UUID``."""
    return uuid7()
