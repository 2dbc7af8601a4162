"""Hashing threads yield the CPU to the event loop (Linux: a scheduling policy per thread)."""

from __future__ import annotations

import os
import sys
import threading
from unittest import mock

import pytest

from dashtam.infrastructure.security import password_hasher
from dashtam.infrastructure.security.password_hasher import (
    _HASHING_THREADS,
    HASHING_NICENESS,
    Argon2PasswordHasher,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread scheduling is a Linux feature"
)


def _own_policy() -> int:
    return os.sched_getscheduler(threading.get_native_id())


def _own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_a_hashing_thread_runs_only_on_cpu_no_one_else_wants() -> None:
    hasher = Argon2PasswordHasher(memory_cost_kib=8, time_cost=1)
    stored = await hasher.hash("a passphrase")  # starts a hashing thread if none ran yet
    assert await hasher.verify(stored, "a passphrase")

    caller = _own_policy()
    hashing = _HASHING_THREADS.submit(_own_policy).result()

    assert hashing == os.SCHED_IDLE
    assert caller == os.SCHED_OTHER  # the caller's thread (the event loop) is left alone


def _lowered_where_idle_is_refused() -> tuple[int, int]:
    before = _own_niceness()
    refused = OSError(1, "Operation not permitted")
    with mock.patch.object(password_hasher.os, "sched_setscheduler", side_effect=refused):
        password_hasher._lower_priority()
    return before, _own_niceness()


def test_where_the_policy_is_refused_the_thread_is_made_nicer() -> None:
    # A thread of its own: a nice value, once raised, cannot be lowered again unprivileged.
    found: list[tuple[int, int]] = []
    thread = threading.Thread(target=lambda: found.append(_lowered_where_idle_is_refused()))
    thread.start()
    thread.join()
    [(before, after)] = found
    assert after == min(19, before + HASHING_NICENESS)
    assert _own_niceness() == before  # this thread is left alone
