"""The audit hash chain: sealed after commit, verified end to end, tampering detected."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.audit.chain import SEALS_PER_TURN, AuditChain
from dashtam.infrastructure.audit.signing import GENESIS_HASH
from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail
from dashtam.infrastructure.audit.verification import Tampering
from dashtam.infrastructure.errors import classify
from dashtam.infrastructure.persistence.database import Database
from tests.audit_keys import signer_for_tests
from tests.integration.helpers import tamper_with_audit


async def _record(database: Database, count: int) -> list[AuditEntry]:
    entries = [
        AuditEntry(
            action=AuditAction.USER_REGISTERED,
            outcome=AuditOutcome.SUCCEEDED,
            resource_type=ResourceType.USER,
            metadata={"n": index, "nested": {"list": [1, 2]}},
        )
        for index in range(count)
    ]
    async with database.transaction() as session:
        trail = SqlAuditTrail(session=session, signer=signer_for_tests())
        for entry in entries:
            assert (await trail.record(entry)).is_success()
    return entries


def _chain(database: Database) -> AuditChain:
    return AuditChain(database=database, signer=signer_for_tests())


async def test_sealed_chain_verifies_and_sealing_is_idempotent(database: Database) -> None:
    chain = _chain(database)
    await _record(database, 5)
    assert (await chain.seal_pending(batch_size=2)).sealed == 5
    assert (await chain.seal_pending()).sealed == 0

    report = await chain.verify()

    assert report.intact, report.problems
    assert (report.sealed, report.unsealed) == (5, 0)
    assert report.head != GENESIS_HASH
    exported = [document async for document in chain.export()]
    assert [document["seal"]["seq"] for document in exported] == [1, 2, 3, 4, 5]
    assert exported[-1]["seal"]["hash"] == report.head
    assert exported[0]["seal"]["prev_hash"] == GENESIS_HASH


async def test_export_ends_with_the_unsealed_records_in_order(database: Database) -> None:
    chain = _chain(database)
    await _record(database, 2)
    await chain.seal_pending()
    later = await _record(database, 3)
    exported = [document async for document in chain.export()]
    assert [document["seal"] is None for document in exported] == [False] * 2 + [True] * 3
    unsealed = exported[2:]
    assert {document["audit_id"] for document in unsealed} == {str(e.id) for e in later}
    assert all(document["record"]["id"] == document["audit_id"] for document in unsealed)
    assert all(document["mac"] for document in unsealed)


async def test_records_committed_later_are_reported_then_sealed(database: Database) -> None:
    chain = _chain(database)
    await _record(database, 2)
    await chain.seal_pending()
    await _record(database, 1)

    assert (await chain.verify()).unsealed == 1
    await chain.seal_pending()
    report = await chain.verify()
    assert (report.sealed, report.unsealed, report.intact) == (3, 0, True)


async def test_an_altered_record_breaks_the_chain(database: Database) -> None:
    chain = _chain(database)
    entries = await _record(database, 3)
    await chain.seal_pending()
    target = entries[1].id.hex if database.is_sqlite else str(entries[1].id)

    await tamper_with_audit(
        database, f"UPDATE audit_logs SET outcome = 'failed' WHERE id = '{target}'"
    )

    report = await chain.verify()
    assert not report.intact
    assert [(p.kind, p.record_id, p.seq) for p in report.problems] == [
        (Tampering.ALTERED, str(entries[1].id), 2)
    ]


async def test_a_removed_record_and_a_removed_seal_are_detected(database: Database) -> None:
    chain = _chain(database)
    entries = await _record(database, 4)
    await chain.seal_pending()
    target = entries[1].id.hex if database.is_sqlite else str(entries[1].id)

    await tamper_with_audit(
        database,
        f"DELETE FROM audit_logs WHERE id = '{target}'",
        "DELETE FROM audit_seals WHERE seq = 3",
    )

    problems = {(p.kind, p.seq) for p in (await chain.verify()).problems}
    assert (Tampering.REMOVED, 2) in problems  # the record of seal 2
    assert (Tampering.REMOVED, 4) in problems  # seal 3, reported where the gap ends
    assert (Tampering.REORDERED, 4) in problems


async def test_seals_are_append_only(database: Database) -> None:
    chain = _chain(database)
    await _record(database, 1)
    await chain.seal_pending()
    with pytest.raises(DBAPIError) as caught:
        async with database.transaction() as session:
            await session.execute(text("UPDATE audit_seals SET hash = 'x'"))
    assert classify(caught.value).code == "operation_not_permitted"


async def test_concurrent_sealers_build_one_contiguous_chain(database_url: str) -> None:
    seeding = Database(database_url)
    try:
        await _record(seeding, 30)
    finally:
        await seeding.close()
    processes = [Database(database_url, pool_size=2) for _ in range(3)]
    try:
        counts = await asyncio.gather(*(_chain(db).seal_pending(batch_size=4) for db in processes))
        report = await _chain(processes[0]).verify()
    finally:
        for db in processes:
            await db.close()
    assert sum(outcome.sealed for outcome in counts) == 30
    assert (report.sealed, report.intact) == (30, True), report.problems


def test_canonical_form_is_stable_json() -> None:
    from datetime import UTC, datetime
    from uuid import UUID

    from dashtam.infrastructure.audit.signing import canonical_bytes, record_document
    from dashtam.infrastructure.persistence.models.audit import AuditLogModel

    record = AuditLogModel(
        id=UUID("01a20f90-0000-7000-8000-000000000001"),
        created_at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        action="user.registered",
        outcome="succeeded",
        resource_type="user",
        details={"b": 1, "a": [2, 1.0], "big": 1e20},
        key_id="k",
    )
    canonical = canonical_bytes(record_document(record))
    document = json.loads(canonical)
    assert document["created_at"] == "2026-11-24T12:00:00.000000+00:00"
    assert canonical.index(b'"a"') < canonical.index(b'"b"')
    # A JSON store may give numbers back in another spelling (JSONB: 1e20 -> 10**20, 1.0 -> 1).
    record.details = {"b": 1.0, "a": [2, 1], "big": 10**20}
    assert canonical_bytes(record_document(record)) == canonical


async def test_a_record_inserted_from_its_values_carries_the_mac_of_its_instance(
    database: Database,
) -> None:
    # Unit of work and read buffer insert ``signer.values`` through Core; failed outcomes
    # go through ``signer.row`` and the session. Both must make the record the chain verifies.
    from datetime import UTC, datetime
    from decimal import Decimal

    from dashtam.core.ids import new_id
    from dashtam.infrastructure.persistence.core_insert import insert_values
    from dashtam.infrastructure.persistence.models.audit import AuditLogModel

    signer = signer_for_tests()
    entry = AuditEntry(
        action=AuditAction.FINANCIAL_DATA_READ,
        outcome=AuditOutcome.SUCCEEDED,
        resource_type=ResourceType.ACCOUNT,
        resource_id=new_id(),
        actor_id=new_id(),
        ip_address="203.0.113.9",
        user_agent="agent/" + "x" * 600,
        trace_id="trace-1",
        reason="because",
        metadata={"at": datetime(2026, 1, 2, tzinfo=UTC), "id": new_id(), "amount": Decimal("1.50"),
                  "ratio": 1.0, "nested": {"list": [1, 2]}},
    )  # fmt: skip
    values = signer.values(entry)
    instance = signer.row(entry)
    assert values["mac"] == instance.mac
    assert signer.check(instance)
    assert values["user_agent"] == instance.user_agent == ("agent/" + "x" * 600)[:512]

    async with database.transaction() as session:
        await insert_values(session, [(AuditLogModel, [values])])
    async with database.get_session() as session:
        stored = await session.get(AuditLogModel, entry.id)
    assert stored is not None
    assert signer.check(stored)
    await _chain(database).seal_pending()
    report = await _chain(database).verify()
    assert report.intact, report.problems


async def test_a_large_seal_lets_the_event_loop_run_others_as_it_goes(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sealing shares the loop with requests: between two turns of another task it checks
    and seals at most one partition of records, never the whole batch."""
    from dashtam.infrastructure.audit import chain as chain_module

    chain = _chain(database)
    await _record(database, 230)
    checked = 0
    check = chain_module.mac_is_valid

    def counting(*args: Any) -> bool:
        nonlocal checked
        checked += 1
        return check(*args)

    monkeypatch.setattr(chain_module, "mac_is_valid", counting)
    seen: list[int] = []
    sealing = asyncio.ensure_future(chain.seal_pending(batch_size=200))
    while not sealing.done():
        seen.append(checked)
        await asyncio.sleep(0)
    assert (await sealing).sealed == 230
    steps = [after - before for before, after in itertools.pairwise(seen)]
    assert max(steps) <= SEALS_PER_TURN
    assert (await chain.verify()).intact
