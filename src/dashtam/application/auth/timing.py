"""Equal work for unknown and known accounts, so response times reveal nothing."""

from __future__ import annotations

import asyncio
import secrets

from dashtam.domain.protocols.password_hasher import PasswordHasher


class DummyPasswordCheck:
    """Verifies a password against a throw-away hash made with the real parameters."""

    def __init__(self, hasher: PasswordHasher) -> None:
        self._hasher = hasher
        self._hash: str | None = None
        self._lock = asyncio.Lock()

    async def verify(self, password: str) -> None:
        if self._hash is None:
            async with self._lock:
                if self._hash is None:
                    self._hash = await self._hasher.hash(secrets.token_urlsafe(24))
        await self._hasher.verify(self._hash, password)
