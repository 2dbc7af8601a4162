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

# How much lower than the rest of the process a hashing thread runs where SCHED_IDLE is
# refused (a nice increment).
HASHING_NICENESS = 10


def _lower_priority() -> None:
    """Let the scheduler prefer the event loop (and the database) over a hashing thread.

    argon2 releases the GIL while it hashes, so a hash does not block the loop in Python; it
    competes for a core. Linux schedules each thread on its own, so only the hashing threads
    are lowered: to ``SCHED_IDLE``, which any process may ask for its own threads. A core
    that runs nothing but such a thread counts as idle when a thread wakes up, so the event
    loop, and the PostgreSQL backend it just sent a query to, take it at once instead of
    queueing behind the loop's own core (bench/login_storm.py on 2 CPUs, 1,000 probes,
    taking turns: /health under the storm p50 1.3-1.4 -> 1.0-1.1 ms, idle 1.0; p99 4.8-9.9
    -> 3.8-4.9 ms; log-ins per second about the same). Hashing gets the CPU no one else
    wants: on a host kept fully busy by other work, log-ins slow down first (docs/security.md).
    Where that is refused, the thread runs HASHING_NICENESS lower (nice +10 took /health p99
    under the storm from 44 to 14 ms when it came in); elsewhere than Linux, nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return
    thread = threading.get_native_id()
    try:
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        return
    except OSError:  # a sandbox that refuses scheduling policies: try the nice value
        pass
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, current + HASHING_NICENESS))
    except OSError:  # not allowed here either: hash at the process's priority
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
