"""Log-in throttling: per account and per ip, kept in the database across restarts."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.models import AuditLogModel, LoginAttemptModel
from tests.api.support import (
    PASSWORD,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    client_from,
    create_user,
    fetch,
    log_in,
    running,
)

WRONG = "not the right passphrase"
WINDOW_SECONDS = 15 * 60


def assert_throttled(response: httpx.Response) -> int:
    """A 429 problem whose ``Retry-After`` is a positive number of seconds within the window."""
    assert_problem(response, status=429, code="rate_limited")
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    seconds = int(retry_after)
    assert 0 < seconds <= WINDOW_SECONDS + 1
    assert "access_token" not in response.text
    return seconds


async def fail_five_times(client: httpx.AsyncClient, email: str) -> None:
    for _ in range(5):
        assert_unauthorized(await log_in(client, email, WRONG), code="invalid_credentials")


async def test_the_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    await fail_five_times(client, "ada@example.com")

    response = await log_in(client, "ada@example.com", PASSWORD)

    assert_throttled(response)
    attempts = await fetch(container, LoginAttemptModel)
    assert [a.succeeded for a in attempts] == [False] * 5
    throttled = await fetch(container, AuditLogModel, AuditLogModel.action == "user.login_failed")
    assert [a.reason for a in throttled][-1] == "rate_limited"
    assert len(throttled) == 6


async def test_four_failures_do_not_lock_the_account(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    for _ in range(4):
        await log_in(client, "ada@example.com", WRONG)

    response = await log_in(client, "ada@example.com", PASSWORD)

    assert response.status_code == 201, response.text


async def test_unknown_accounts_are_throttled_too(client: httpx.AsyncClient) -> None:
    # Otherwise the 429 itself would tell which addresses have accounts.
    await fail_five_times(client, "nobody@example.com")

    assert_throttled(await log_in(client, "nobody@example.com", WRONG))


async def test_the_throttle_is_per_account(
    client: httpx.AsyncClient, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    await create_user(container, "grace@example.com")
    await fail_five_times(client, "ada@example.com")

    assert_throttled(await log_in(client, "ADA@example.com", PASSWORD))
    assert (await log_in(client, "grace@example.com", PASSWORD)).status_code == 201


async def test_the_throttle_survives_a_restart(
    started: tuple[FastAPI, httpx.AsyncClient], settings: Settings
) -> None:
    _, client = started
    first = FastContainer(settings)
    await create_user(first, "ada@example.com")
    await fail_five_times(client, "ada@example.com")
    await first.aclose()

    # A new process: new container, new pool, nothing in memory, same database.
    async with running(FastContainer(settings)) as (_, restarted):
        response = await log_in(restarted, "ada@example.com", PASSWORD)

    assert_throttled(response)


async def test_the_per_ip_limit_blocks_a_spray_across_many_accounts(
    app: FastAPI, container: FastContainer
) -> None:
    await create_user(container, "ada@example.com")
    async with (
        client_from(app, "203.0.113.7") as sprayer,
        client_from(app, "198.51.100.2") as elsewhere,
    ):
        # 50 wrong guesses, each on a different account: no account reaches its own limit.
        for index in range(50):
            response = await log_in(sprayer, f"victim{index}@example.com", WRONG)
            assert_unauthorized(response, code="invalid_credentials")

        from_sprayer = await log_in(sprayer, "ada@example.com", PASSWORD)
        from_elsewhere = await log_in(elsewhere, "ada@example.com", PASSWORD)

    assert_throttled(from_sprayer)
    assert from_elsewhere.status_code == 201, from_elsewhere.text
    failures = await fetch(container, LoginAttemptModel, LoginAttemptModel.succeeded.is_(False))
    sprayed = [a for a in failures if a.ip_address == "203.0.113.7"]
    assert len(sprayed) == 50
    assert len({a.account_key for a in sprayed}) == 50


async def test_a_burst_of_parallel_guesses_cannot_exceed_the_limit(
    app: FastAPI, container: FastContainer
) -> None:
    await create_user(container, "burst@example.com")
    async with client_from(app, "192.0.2.44") as attacker:
        responses = await asyncio.gather(
            *(log_in(attacker, "burst@example.com", WRONG) for _ in range(12))
        )
    statuses = sorted(response.status_code for response in responses)
    # Each attempt is counted under a per-account lock before its password is checked.
    assert statuses == [401] * 5 + [429] * 7, statuses


async def test_successful_log_ins_never_count_against_the_ip(
    app: FastAPI, container: FastContainer
) -> None:
    await create_user(container, "office@example.com")
    async with client_from(app, "192.0.2.80") as office:
        # More successes from one address than its failure limit (50) allows failures.
        for _ in range(55):
            response = await log_in(office, "office@example.com", PASSWORD)
            assert response.status_code == 201, response.text
    failures = await fetch(container, LoginAttemptModel, LoginAttemptModel.succeeded.is_(False))
    assert failures == []
