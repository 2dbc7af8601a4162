"""The sync worker: due connections only, backoff, a worker killed mid-sync, two workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from dashtam.application.live.scheduler import SyncScheduler
from dashtam.core.clock import utcnow
from dashtam.infrastructure.persistence.models import ConnectionModel, TransactionModel
from tests.api.finance_support import sign_up
from tests.api.live.support import connect_bridge, live_settings, sync
from tests.api.support import FastContainer, assert_problem, running
from tests.simplefin_bridge import SimplefinBridge

DASHTAM = str(Path(sys.executable).with_name("dashtam"))


def _scheduler(
    container: FastContainer, worker: str, *, at: datetime | None = None
) -> SyncScheduler:
    return SyncScheduler(
        uow_factory=container.unit_of_work,
        handler=container.live.sync_handler(),
        policy=container.live.policy,
        logger=container.logger("tests.worker"),
        worker_id=worker,
        clock=(lambda: at) if at is not None else utcnow,
    )


async def _rows(container: FastContainer) -> list[ConnectionModel]:
    async with container.database.get_session() as session:
        return list(
            (await session.scalars(select(ConnectionModel).order_by(ConnectionModel.id))).all()
        )


async def _transactions(container: FastContainer) -> int:
    async with container.database.get_session() as session:
        return int(await session.scalar(select(func.count()).select_from(TransactionModel)) or 0)


async def test_the_worker_syncs_what_is_due_and_schedules_the_next(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    await connect_bridge(live_client, headers, bridge)
    worker = _scheduler(live_container, "w1")
    assert await worker.run_once() == 1
    assert await _transactions(live_container) == 4
    assert await worker.run_once() == 0  # not due again before the interval
    (row,) = await _rows(live_container)
    assert row.sync_claimed_by is None  # released
    assert row.next_sync_at is not None
    later = _scheduler(live_container, "w1", at=row.next_sync_at + timedelta(seconds=1))
    assert await later.run_once() == 1
    assert bridge.count("/accounts") == 2


async def test_failures_back_off_and_a_success_resets_them(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    await connect_bridge(live_client, headers, bridge)
    bridge.behaviour.status = 503
    assert await _scheduler(live_container, "w1").run_once() == 1
    (row,) = await _rows(live_container)
    assert row.sync_failures == 1
    assert row.next_sync_at is not None
    first_retry = row.next_sync_at
    assert await _scheduler(live_container, "w1").run_once() == 0  # backing off
    assert await _scheduler(live_container, "w1", at=first_retry).run_once() == 1
    (row,) = await _rows(live_container)
    assert row.sync_failures == 2
    assert row.last_sync_attempt_at is not None
    assert row.next_sync_at is not None
    # The second wait is twice the first.
    assert row.next_sync_at - row.last_sync_attempt_at == timedelta(minutes=10)
    bridge.behaviour.status = None
    assert await _scheduler(live_container, "w1", at=row.next_sync_at).run_once() == 1
    (row,) = await _rows(live_container)
    assert row.sync_failures == 0
    assert await _transactions(live_container) == 4


async def test_a_user_sync_waits_for_the_workers_claim(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    connection = await connect_bridge(live_client, headers, bridge)
    bridge.behaviour.delay_seconds = 0.6
    worker = asyncio.create_task(_scheduler(live_container, "w1").run_once())
    await _until_fetched(bridge)
    busy = await sync(live_client, headers, str(connection["id"]))
    assert_problem(busy, status=409, code="sync_in_progress")
    assert await worker == 1


async def _until_fetched(bridge: SimplefinBridge) -> None:
    deadline = time.monotonic() + 30
    while bridge.count("/accounts") == 0:
        assert time.monotonic() < deadline, "the worker never fetched"
        await asyncio.sleep(0.02)


def _worker_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DASHTAM_ENV": "test",
        "DASHTAM_SYNC_ALLOW_LOOPBACK_HTTP": "true",
        "DASHTAM_SYNC_TIMEOUT": "20",
        "DASHTAM_WORKER_POLL": "0.2",
        "LOG_LEVEL": "WARNING",
    }


async def test_a_worker_killed_mid_sync_loses_nothing_and_another_takes_over(
    live_client: httpx.AsyncClient,
    live_container: FastContainer,
    bridge: SimplefinBridge,
    database_url: str,
) -> None:
    headers = await sign_up(live_client, "ana@example.com")
    await connect_bridge(live_client, headers, bridge)
    bridge.behaviour.delay_seconds = 30  # the worker is killed while it waits for the answer
    process = subprocess.Popen(  # noqa: ASYNC220 - a real process, to kill it for real
        [DASHTAM, "worker"],
        env=_worker_env(database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while bridge.count("/accounts") == 0:
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            assert time.monotonic() < deadline, "the worker never fetched"
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        if process.stderr is not None:
            process.stderr.close()
    (row,) = await _rows(live_container)
    assert row.sync_claimed_by is not None  # its lease outlives it
    assert row.last_sync_at is None
    assert await _transactions(live_container) == 0  # nothing half-written
    bridge.behaviour.delay_seconds = 0
    assert await _scheduler(live_container, "w2").run_once() == 0  # the lease still holds
    assert row.sync_claimed_until is not None
    after_lease = row.sync_claimed_until + timedelta(seconds=1)
    assert await _scheduler(live_container, "w2", at=after_lease).run_once() == 1
    assert await _transactions(live_container) == 4
    (row,) = await _rows(live_container)
    assert row.sync_claimed_by is None
    assert row.last_sync_at is not None


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_two_workers_never_sync_one_connection_at_once(
    live_client: httpx.AsyncClient, live_container: FastContainer, bridge: SimplefinBridge
) -> None:
    for index in range(6):
        headers = await sign_up(live_client, f"user{index}@example.com")
        await connect_bridge(live_client, headers, bridge)
    bridge.behaviour.delay_seconds = 0.2
    done = await asyncio.gather(
        _scheduler(live_container, "w1").run_once(),
        _scheduler(live_container, "w2").run_once(),
        _scheduler(live_container, "w3").run_once(),
    )
    assert sum(done) == 6
    assert sum(count > 0 for count in done) >= 2  # the work was shared, not serialised
    per_access: dict[str | None, int] = {}
    for request in bridge.requests:
        if request.path.endswith("/accounts"):
            per_access[request.username] = per_access.get(request.username, 0) + 1
    assert sorted(per_access.values()) == [1] * 6  # each connection fetched exactly once
    async with live_container.database.get_session() as session:
        await session.execute(update(ConnectionModel).values(next_sync_at=utcnow()))
        await session.commit()
    again = await asyncio.gather(
        _scheduler(live_container, "w1").run_once(),
        _scheduler(live_container, "w2").run_once(),
    )
    assert sum(again) == 6


async def test_the_api_can_run_the_worker_itself(
    database_url: str, bridge: SimplefinBridge
) -> None:
    container = FastContainer(
        live_settings(database_url, DASHTAM_SYNC_IN_API=True, DASHTAM_WORKER_POLL=0.1)
    )
    async with running(container) as (_, client):
        headers = await sign_up(client, "ana@example.com")
        await connect_bridge(client, headers, bridge)
        deadline = time.monotonic() + 20
        while await _transactions(container) < 4:
            assert time.monotonic() < deadline, "the API's worker never synced"
            await asyncio.sleep(0.05)
    assert bridge.count("/accounts") == 1
