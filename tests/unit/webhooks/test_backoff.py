"""The webhook retry schedule: doubling from the base, capped, jittered within its half."""

from __future__ import annotations

from datetime import timedelta

from dashtam.infrastructure.webhooks.sender import SenderPolicy


def test_waits_double_between_half_and_all_of_the_step() -> None:
    policy = SenderPolicy(backoff_base_seconds=10.0, backoff_max_seconds=100.0)
    for attempt, step in ((1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (30, 100)):
        for _ in range(50):
            wait = policy.backoff(attempt)
            assert timedelta(seconds=step / 2) <= wait <= timedelta(seconds=step), attempt


def test_jitter_spreads_retries() -> None:
    policy = SenderPolicy(backoff_base_seconds=10.0)
    assert len({policy.backoff(3) for _ in range(20)}) > 1
