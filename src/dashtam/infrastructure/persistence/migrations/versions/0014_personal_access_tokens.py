"""Personal access tokens for scripts, stored as keyed digests.

Revision ID: 0014_personal_access_tokens
Revises: 0013_outbox_notify
Create Date: 2026-12-14

``token_hash`` is the HMAC-SHA256 of the token under a key derived from
``DASHTAM_SECRET_KEY``; the token itself is never stored. ``scopes`` is a JSON array of
scope names. A use sets ``last_used_at`` without touching ``version``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014_personal_access_tokens"
down_revision: str | None = "0013_outbox_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_now = sa.text("CURRENT_TIMESTAMP")
_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "personal_access_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _moment, server_default=_now, nullable=False),
        sa.Column("updated_at", _moment, server_default=_now, nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("scopes", _json, nullable=False),
        sa.Column("expires_at", _moment, nullable=False),
        sa.Column("last_used_at", _moment, nullable=True),
        sa.Column("revoked_at", _moment, nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_personal_access_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_access_tokens_token_hash")),
    )
    op.create_index("ix_personal_access_tokens_user_id", "personal_access_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_personal_access_tokens_user_id", table_name="personal_access_tokens")
    op.drop_table("personal_access_tokens")
