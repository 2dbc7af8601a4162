"""Audit chain: SHA-256 seals over the audit trail, append-only.

Revision ID: 0004_audit_chain
Revises: 0003_financial_data
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit_chain"
down_revision: str | None = "0003_financial_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("audit_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_logs.id"], name=op.f("fk_audit_seals_audit_id_audit_logs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("audit_id", name=op.f("uq_audit_seals_audit_id")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_seals_seq")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Reuses the trail's refusing function from 0001.
        op.execute(
            "CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            "ON audit_seals FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_seals_refuse_{operation.lower()} BEFORE {operation} "
                f"ON audit_seals BEGIN SELECT RAISE(ABORT, "
                f"'audit_seals is append-only: {operation} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seals_append_only ON audit_seals")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_seals_refuse_update")
        op.execute("DROP TRIGGER IF EXISTS audit_seals_refuse_delete")
    op.drop_table("audit_seals")
