"""The tamper suite: each way someone holding the database but not the app's keys could rewrite
the audit trail, and the check that catches it (on PostgreSQL and SQLite alike)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dashtam.core.ids import new_id
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.audit.checkpoints import (
    append_checkpoint,
    judge,
    make_checkpoint,
    read_checkpoints,
)
from dashtam.infrastructure.audit.signing import (
    AuditKeyring,
    AuditRecordSigner,
    record_document,
    record_mac,
)
from dashtam.infrastructure.audit.verification import Tampering, verify_export
from dashtam.infrastructure.errors import classify
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.audit_keys import TEST_KEYRING, chain_for_tests, record_entries
from tests.integration.helpers import tamper_with_audit


def _sql_id(database: Database, value: object) -> str:
    return value.hex if database.is_sqlite else str(value)  # type: ignore[attr-defined]


def _kinds(report_problems: list[object]) -> set[tuple[Tampering, str | None]]:
    return {(p.kind, p.record_id) for p in report_problems}  # type: ignore[attr-defined]


async def _forge(database: Database, before: AuditEntry, *, mac: str | None) -> AuditLogModel:
    """A record inserted by hand (INSERT is all the trail allows), back-dated before ``before``."""
    forged = AuditLogModel(
        id=new_id(),
        created_at=before.occurred_at - timedelta(seconds=1),
        action=AuditAction.ADMIN_USER_DELETED.value,
        outcome=AuditOutcome.SUCCEEDED.value,
        resource_type=ResourceType.USER.value,
        resource_id=new_id(),
        details={"note": "it was always like this"},
        key_id=TEST_KEYRING.current_key_id,
        mac=mac,
    )
    async with database.transaction() as session:
        session.add(forged)
    return forged


@pytest.mark.parametrize("mac", [None, "0" * 64, "guess"])
async def test_a_hand_inserted_record_is_refused_by_the_sealer(
    database: Database, mac: str | None
) -> None:
    chain = chain_for_tests(database)
    real = (await record_entries(database, 1))[0]
    forged = await _forge(database, real, mac=mac)

    outcome = await chain.seal_pending()

    assert (outcome.sealed, outcome.refused) == (1, [str(forged.id)])
    report = await chain.verify()
    assert _kinds(report.problems) == {(Tampering.FORGED, str(forged.id))}
    assert (report.sealed, report.unsealed) == (1, 1)
    # Later rounds keep refusing it, and keep sealing genuine records after it.
    await record_entries(database, 1)
    assert (await chain.seal_pending()).refused == [str(forged.id)]
    assert (await chain.verify()).sealed == 2


async def test_a_record_forged_with_another_key_is_refused(database: Database) -> None:
    chain = chain_for_tests(database)
    real = (await record_entries(database, 1))[0]
    forged = await _forge(database, real, mac=None)
    # The attacker knows the algorithm, not the key.
    async with database.transaction() as session:
        row = await session.get(AuditLogModel, forged.id)
        assert row is not None
        mac = record_mac(b"a guessed key", record_document(row))
    await tamper_with_audit(
        database,
        f"UPDATE audit_logs SET mac = '{mac}' WHERE id = '{_sql_id(database, forged.id)}'",
    )
    assert (await chain.seal_pending()).refused == [str(forged.id)]


async def test_rewriting_a_record_and_recomputing_every_later_seal_is_detected(
    database: Database,
) -> None:
    chain = chain_for_tests(database)
    entries = await record_entries(database, 4)
    await chain.seal_pending()
    target = _sql_id(database, entries[1].id)
    # Rewrite record 2, then redo seals 2..4 the way the old unkeyed chain did.
    statements = [f"UPDATE audit_logs SET outcome = 'failed' WHERE id = '{target}'"]
    exported = [document async for document in chain.export()]
    prev = exported[0]["seal"]["hash"]
    for document in exported[1:]:
        record = dict(document["record"])
        if record["id"] == str(entries[1].id):
            record["outcome"] = "failed"
        digest = hashlib.sha256(prev.encode() + json.dumps(record).encode()).hexdigest()
        seq = document["seal"]["seq"]
        statements.append(
            f"UPDATE audit_seals SET prev_hash = '{prev}', hash = '{digest}' WHERE seq = {seq}"
        )
        prev = digest
    await tamper_with_audit(database, *statements)

    problems = {(p.kind, p.seq) for p in (await chain.verify()).problems}

    assert (Tampering.ALTERED, 2) in problems
    assert {(Tampering.RESEALED, seq) for seq in (2, 3, 4)} <= problems


async def test_reordered_seals_are_detected(database: Database) -> None:
    chain = chain_for_tests(database)
    entries = await record_entries(database, 3)
    await chain.seal_pending()
    first, second = (_sql_id(database, entry.id) for entry in entries[:2])
    placeholder = _sql_id(database, new_id())
    await tamper_with_audit(
        database,
        "PRAGMA foreign_keys = OFF" if database.is_sqlite else "SELECT 1",
        f"UPDATE audit_seals SET audit_id = '{placeholder}' WHERE seq = 1",
        f"UPDATE audit_seals SET audit_id = '{first}' WHERE seq = 2",
        f"UPDATE audit_seals SET audit_id = '{second}' WHERE seq = 1",
    )
    kinds = {p.kind for p in (await chain.verify()).problems}
    assert Tampering.RESEALED in kinds  # each seal covers its record's id


async def test_a_cut_tail_passes_alone_and_is_caught_by_a_checkpoint(
    database: Database, tmp_path: Path
) -> None:
    chain = chain_for_tests(database)
    entries = await record_entries(database, 4)
    await chain.seal_pending()
    anchor = tmp_path / "checkpoints.jsonl"
    append_checkpoint(str(anchor), await chain.checkpoint())
    last_two = ", ".join(f"'{_sql_id(database, entry.id)}'" for entry in entries[2:])

    await tamper_with_audit(
        database,
        "DELETE FROM audit_seals WHERE seq > 2",
        f"DELETE FROM audit_logs WHERE id IN ({last_two})",
    )

    # Without an outside anchor a clean cut of the tail is indistinguishable from fewer records.
    assert (await chain.verify()).intact
    checkpoints = [judge(TEST_KEYRING, doc) for doc in read_checkpoints(str(anchor))]
    report = await chain.verify(checkpoints)
    assert [(p.kind, p.seq) for p in report.problems] == [(Tampering.REMOVED, 4)]


async def test_a_rewritten_anchored_head_is_caught(database: Database, tmp_path: Path) -> None:
    chain = chain_for_tests(database)
    await record_entries(database, 2)
    await chain.seal_pending()
    checkpoint = await chain.checkpoint()
    await tamper_with_audit(database, f"UPDATE audit_seals SET hash = '{'f' * 64}' WHERE seq = 2")

    report = await chain.verify([judge(TEST_KEYRING, checkpoint)])

    assert (Tampering.RESEALED, 2) in {(p.kind, p.seq) for p in report.problems}
    assert any("checkpoint" in p.detail for p in report.problems)


def test_a_checkpoint_not_signed_by_our_key_is_refused() -> None:
    stranger = AuditKeyring.from_secrets([b"x"], [Ed25519PrivateKey.from_private_bytes(bytes(32))])
    from dashtam.core.clock import utcnow

    theirs = make_checkpoint(stranger, seq=1, head="0" * 64, created_at=utcnow())
    ours = make_checkpoint(TEST_KEYRING, seq=1, head="0" * 64, created_at=utcnow())
    edited = {**ours, "seq": 7}

    assert not judge(TEST_KEYRING, theirs).trusted
    assert not judge(TEST_KEYRING, edited).trusted
    assert judge(TEST_KEYRING, ours).trusted


async def test_an_export_verifies_offline_and_edits_to_it_are_caught(database: Database) -> None:
    chain = chain_for_tests(database)
    entries = await record_entries(database, 3)
    await chain.seal_pending()
    await record_entries(database, 1)  # one record not sealed yet travels in the export too
    lines = [json.dumps(document) async for document in chain.export()]

    report = verify_export(lines, TEST_KEYRING)
    assert (report.sealed, report.unsealed, report.intact) == (3, 1, True)

    altered = json.loads(lines[1])
    altered["record"]["reason"] = "edited"
    report = verify_export([lines[0], json.dumps(altered), *lines[2:]], TEST_KEYRING)
    assert _kinds(report.problems) == {(Tampering.ALTERED, str(entries[1].id))}

    report = verify_export([lines[0], *lines[2:]], TEST_KEYRING)
    assert Tampering.REMOVED in {p.kind for p in report.problems}


async def test_rotated_keys_keep_old_records_verifiable(database: Database) -> None:
    old = TEST_KEYRING
    new = AuditKeyring.from_secrets([b"the new key", b"test audit mac key"], old.signing_keys)
    await record_entries(database, 2, signer=AuditRecordSigner(old))
    await chain_for_tests(database, old).seal_pending()
    await record_entries(database, 2, signer=AuditRecordSigner(new))
    rotated = chain_for_tests(database, new)

    assert (await rotated.seal_pending()).sealed == 2
    assert (await rotated.verify()).intact
    # Dropping the old key from the ring makes its records unverifiable: reported, not ignored.
    only_new = AuditKeyring.from_secrets([b"the new key"], old.signing_keys)
    assert not (await chain_for_tests(database, only_new).verify()).intact


async def test_an_upsert_cannot_rewrite_an_audit_record(database: Database) -> None:
    entry = (await record_entries(database, 1))[0]
    if database.is_sqlite:
        # INSERT OR REPLACE deletes the old row without firing DELETE triggers.
        connection = sqlite3.connect(str(database.url.database))
        try:
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                connection.execute(
                    "INSERT OR REPLACE INTO audit_logs (id, created_at, action, outcome, "
                    "resource_type, metadata) "
                    "VALUES (?, '2020-01-01 00:00:00', 'x', 'y', 'z', '{}')",
                    (entry.id.hex,),
                )
        finally:
            connection.close()
    else:
        with pytest.raises(DBAPIError) as caught:
            async with database.transaction() as session:
                await session.execute(
                    text(
                        "INSERT INTO audit_logs (id, created_at, action, outcome, resource_type, "
                        "metadata) VALUES (:id, now(), 'x', 'y', 'z', '{}') "
                        "ON CONFLICT (id) DO UPDATE SET reason = 'rewritten'"
                    ),
                    {"id": entry.id},
                )
        assert classify(caught.value).code == "operation_not_permitted"
    async with database.get_session() as session:
        row = await session.get(AuditLogModel, entry.id)
    assert row is not None
    assert (row.reason, row.action) == (None, entry.action.value)
