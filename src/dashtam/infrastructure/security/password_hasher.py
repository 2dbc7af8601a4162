"""argon2id password hashing, run in a worker thread so the event loop never waits on it."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 (its minimum
# recommendation, chosen so a 2-core host survives a burst of log-ins).
OWASP_MEMORY_COST_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1

# Hashing is CPU-bound: more hashing threads than cores only steal the event loop's core
# (bench/login_storm.py, 32 concurrent log-ins on 2 CPUs: /health p99 ~200 ms with the default
# pool, ~13 ms with this one). Shared by every hasher in the process.
_HASHING_THREADS = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2"
)


class Argon2PasswordHasher:
    """The ``PasswordHasher`` port implemented with argon2-cffi."""

    def __init__(
        self,
        *,
        memory_cost_kib: int = OWASP_MEMORY_COST_KIB,
        time_cost: int = OWASP_TIME_COST,
        parallelism: int = OWASP_PARALLELISM,
    ) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_HASHING_THREADS, self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _HASHING_THREADS, self._verify_sync, password_hash, password
        )

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
