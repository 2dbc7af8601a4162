"""argon2id password hashing, run in a worker thread so the event loop never waits on it."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 (its minimum
# recommendation, chosen so a 2-core host survives a burst of log-ins).
OWASP_MEMORY_COST_KIB = 19 * 1024
OWASP_TIME_COST = 2
OWASP_PARALLELISM = 1

# How much lower than the rest of the process a hashing thread runs (a nice increment).
HASHING_NICENESS = 10


def _lower_priority() -> None:
    """Let the scheduler prefer the event loop (and the database) over a hashing thread.

    argon2 releases the GIL while it hashes, so a hash does not block the loop in Python; it
    competes for a core. At the same priority, a log-in storm's hashes delay the loop's next
    turn by whole time slices (bench/login_storm.py on 2 CPUs, interleaved: /health p99 under
    the storm 44 ms -> 14 ms with this, log-ins per second unchanged: hashing takes the cores
    the loop leaves idle). Linux sets a nice value per thread; elsewhere this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + HASHING_NICENESS))
    except OSError:  # not allowed here (a sandbox): hash at the process's priority
        return


# Hashing is CPU-bound: more hashing threads than cores only steal the event loop's core
# (bench/login_storm.py, 32 concurrent log-ins on 2 CPUs: /health p99 ~200 ms with the default
# pool, ~13 ms with this one, 2 threads on 2 cores worse than 1). Shared by every hasher in
# the process.
_HASHING_THREADS = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) - 1),
    thread_name_prefix="argon2",
    initializer=_lower_priority,
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
