"""Hashing threads run at a lower CPU priority than the event loop (Linux: nice per thread)."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from dashtam.infrastructure.security.password_hasher import (
    _HASHING_THREADS,
    HASHING_NICENESS,
    Argon2PasswordHasher,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature"
)


def _own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_a_hashing_thread_is_nicer_than_the_caller() -> None:
    hasher = Argon2PasswordHasher(memory_cost_kib=8, time_cost=1)
    stored = await hasher.hash("a passphrase")  # starts a hashing thread if none ran yet
    assert await hasher.verify(stored, "a passphrase")

    caller = _own_niceness()
    hashing = _HASHING_THREADS.submit(_own_niceness).result()

    assert hashing == min(19, caller + HASHING_NICENESS)
    assert _own_niceness() == caller  # the caller's thread (the event loop) is left alone
