"""Audit integrity: record MACs and keyed seals; SQLite refuses REPLACE over audit rows.

Revision ID: 0005_audit_integrity
Revises: 0004_audit_chain
Create Date: 2026-12-01

Records still unsealed when this runs have no MAC and never will (the key is not in the
database, and the rows are append-only), so they are sealed here with the unkeyed legacy
chain; from now on the sealer refuses any record without a valid MAC.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005_audit_integrity"
down_revision: str | None = "0004_audit_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GENESIS = "0" * 64


def upgrade() -> None:
    op.add_column("audit_logs", sa.Column("mac", sa.String(length=64), nullable=True))
    op.add_column("audit_logs", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("audit_seals", sa.Column("key_id", sa.String(length=16), nullable=True))
    _seal_legacy_records()
    if op.get_bind().dialect.name == "sqlite":
        # INSERT OR REPLACE deletes the old row without firing DELETE triggers (unless
        # recursive_triggers is on): refuse any insert that would replace an existing row.
        op.execute(
            "CREATE TRIGGER audit_logs_refuse_replace BEFORE INSERT ON audit_logs "
            "WHEN EXISTS (SELECT 1 FROM audit_logs WHERE id = NEW.id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_logs is append-only: REPLACE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_seals_refuse_replace BEFORE INSERT ON audit_seals "
            "WHEN EXISTS (SELECT 1 FROM audit_seals WHERE id = NEW.id OR seq = NEW.seq "
            "OR audit_id = NEW.audit_id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only: REPLACE refused'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_logs_refuse_replace")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_refuse_replace")
    with op.batch_alter_table("audit_seals") as batch:
        batch.drop_column("key_id")
    with op.batch_alter_table("audit_logs") as batch:
        batch.drop_column("key_id")
        batch.drop_column("mac")


def _utc(value: object) -> datetime:
    if isinstance(value, str):  # SQLite gives the stored text back from a bare select
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"unexpected created_at {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _metadata(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def _seal_legacy_records() -> None:
    """Seal what 0004's sealer had not sealed yet, with 0004's algorithm (frozen copy here)."""
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT seq, hash FROM audit_seals ORDER BY seq DESC LIMIT 1"))
    row = last.first()
    seq, prev_hash = (int(row[0]), str(row[1])) if row else (0, _GENESIS)
    pending = bind.execute(
        sa.text(
            "SELECT l.id, l.created_at, l.actor_id, l.action, l.outcome, l.resource_type, "
            "l.resource_id, l.ip_address, l.user_agent, l.trace_id, l.reason, l.metadata "
            "FROM audit_logs l LEFT JOIN audit_seals s ON s.audit_id = l.id "
            "WHERE s.id IS NULL ORDER BY l.created_at, l.id"
        )
    ).all()
    seals = sa.table(
        "audit_seals",
        sa.column("id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("audit_id", sa.Uuid()),
        sa.column("seq", sa.BigInteger()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    from dashtam.core.ids import new_id  # only for fresh seal ids

    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    for record in pending:
        document = {
            "id": str(_uuid(record[0])),
            "created_at": _utc(record[1]).isoformat(timespec="microseconds"),
            "actor_id": str(_uuid(record[2])) if record[2] else None,
            "action": record[3],
            "outcome": record[4],
            "resource_type": record[5],
            "resource_id": str(_uuid(record[6])) if record[6] else None,
            "ip_address": record[7],
            "user_agent": record[8],
            "trace_id": record[9],
            "reason": record[10],
            "metadata": _metadata(record[11]),
        }
        canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
        digest = hashlib.sha256(prev_hash.encode() + canonical.encode()).hexdigest()
        seq += 1
        op.execute(
            seals.insert().values(
                id=new_id(),
                created_at=now,
                audit_id=_uuid(record[0]),
                seq=seq,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest


def _uuid(value: object) -> object:
    if isinstance(value, uuid.UUID):
        return value
    text = str(value)
    return uuid.UUID(text) if len(text) in (32, 36) else value
