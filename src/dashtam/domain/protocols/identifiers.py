"""Port: a keyed digest of an identifier, to match equal values without storing them."""

from __future__ import annotations

from typing import Protocol


class IdentifierDigest(Protocol):
    def digest(self, value: str) -> str:
        """A stable keyed hash of ``value`` (hex); the key never leaves the adapter."""
        ...
