"""A fast, deterministic ``PasswordHasher`` (argon2id is far too slow for unit tests)."""

from __future__ import annotations

import hmac

PREFIX = "fake$"
# A hash made with "older parameters": it still verifies, but ``needs_rehash`` says upgrade it.
LEGACY_PREFIX = "fake-old$"


class FakePasswordHasher:
    def __init__(self) -> None:
        self.hash_calls = 0
        self.verify_calls = 0

    async def hash(self, password: str) -> str:
        self.hash_calls += 1
        return PREFIX + password[::-1]

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verify_calls += 1
        return any(
            hmac.compare_digest(password_hash.encode(), (prefix + password[::-1]).encode())
            for prefix in (PREFIX, LEGACY_PREFIX)
        )

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(PREFIX)
