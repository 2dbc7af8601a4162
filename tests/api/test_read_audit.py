"""Reads survive write contention (issue 7, defect 5): GETs never queue on SQLite's write lock."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.api.finance_support import TRANSACTIONS_URL, sign_up
from tests.api.support import FastContainer, assert_problem, fetch, running
from tests.integration.read_audit_support import hold_write_lock

READERS = 32
READS = AuditLogModel.action == "financial_data.read"


def sqlite_settings(database_url: str, **extra: object) -> Settings:
    # A short busy timeout: a GET that needed the write lock would fail (409) within a second.
    options: dict[str, object] = {"DB_SQLITE_BUSY_TIMEOUT_MS": 1000, **extra}
    return Settings(
        DATABASE_URL=database_url,
        DASHTAM_ENV="test",
        LOG_LEVEL="WARNING",
        **options,  # type: ignore[arg-type]
    )


async def wait_for_reads(container: FastContainer, count: int) -> list[AuditLogModel]:
    for _ in range(200):  # bounded: ~10 s at worst
        rows = list(await fetch(container, AuditLogModel, READS))
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    return list(await fetch(container, AuditLogModel, READS))


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_concurrent_gets_answer_200_while_a_writer_holds_the_lock(
    database_url: str,
) -> None:
    container = FastContainer(sqlite_settings(database_url))
    async with running(container) as (_app, client):
        headers = await sign_up(client, "reader@example.com")

        async def get() -> httpx.Response:
            return await client.get(TRANSACTIONS_URL, headers=headers)

        async with hold_write_lock(database_url):
            # The lock is held until every GET has answered: none of them may need it.
            responses = await asyncio.wait_for(
                asyncio.gather(*(get() for _ in range(READERS))), timeout=120
            )
            assert [r.status_code for r in responses] == [200] * READERS, [
                r.text for r in responses if r.status_code != 200
            ]
        # Released: the flusher writes the waiting read records in its next batch.
        rows = await wait_for_reads(container, READERS)
        trace_ids = {r.headers["x-request-id"] for r in responses}
    assert len(rows) == READERS
    assert {row.trace_id for row in rows} == trace_ids


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_clean_stop_writes_the_read_records_still_waiting(database_url: str) -> None:
    settings = sqlite_settings(database_url, DASHTAM_READ_AUDIT_FLUSH_INTERVAL=3600)
    container = FastContainer(settings)
    async with running(container) as (_app, client):
        headers = await sign_up(client, "stopper@example.com")
        for _ in range(3):
            assert (await client.get(TRANSACTIONS_URL, headers=headers)).status_code == 200
        assert await fetch(container, AuditLogModel, READS) == []  # still in the buffer
    reader = FastContainer(settings)
    try:
        assert len(await fetch(reader, AuditLogModel, READS)) == 3
    finally:
        await reader.aclose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_full_buffer_over_an_unwritable_database_answers_503(database_url: str) -> None:
    settings = sqlite_settings(
        database_url,
        DB_SQLITE_BUSY_TIMEOUT_MS=100,
        DASHTAM_READ_AUDIT_CAPACITY=1,
        DASHTAM_READ_AUDIT_MAX_WAIT=0.3,
    )
    container = FastContainer(settings)
    async with running(container) as (_app, client):
        headers = await sign_up(client, "unlucky@example.com")
        async with hold_write_lock(database_url):
            first = await client.get(TRANSACTIONS_URL, headers=headers)
            assert first.status_code == 200  # its record waits in the buffer
            refused = await client.get(TRANSACTIONS_URL, headers=headers)
            assert_problem(refused, status=503, code="database_unavailable")
            assert int(refused.headers["retry-after"]) > 0
        # Writable again: the accepted record is written, the refused read left none.
        [row] = await wait_for_reads(container, 1)
        assert row.trace_id == first.headers["x-request-id"]
