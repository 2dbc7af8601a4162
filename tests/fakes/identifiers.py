"""A deterministic ``IdentifierDigest`` whose output is visibly not the input."""

from __future__ import annotations

import hashlib


class FakeIdentifierDigest:
    def __init__(self) -> None:
        self.digested: list[str] = []

    def digest(self, value: str) -> str:
        self.digested.append(value)
        return "fake-digest:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
