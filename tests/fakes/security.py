"""A fast, deterministic ``PasswordHasher`` (argon2id is far too slow for unit tests)."""

from __future__ import annotations

import hmac

PREFIX = "fake$"


class FakePasswordHasher:
    def __init__(self) -> None:
        self.hash_calls = 0

    async def hash(self, password: str) -> str:
        self.hash_calls += 1
        return PREFIX + password[::-1]

    async def verify(self, password_hash: str, password: str) -> bool:
        return hmac.compare_digest(password_hash, PREFIX + password[::-1])

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(PREFIX)
