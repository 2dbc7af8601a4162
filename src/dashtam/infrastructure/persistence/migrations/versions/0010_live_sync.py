"""Live sync: SimpleFIN connections (sealed credentials, sync state, request budget) and
webhook endpoints with their delivery log.

Revision ID: 0010_live_sync
Revises: 0009_investments
Create Date: 2026-12-07

``provider_connections.credentials`` holds the access URL sealed by the credentials cipher
(never in clear); ``webhook_endpoints.secret`` the signing secret, sealed the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_live_sync"
down_revision: str | None = "0009_investments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_now = sa.text("CURRENT_TIMESTAMP")
_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_moment = sa.DateTime(timezone=True)

_CONNECTION_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any], str | None], ...] = (
    ("credentials", sa.Text(), None),
    ("attention_message", sa.String(length=500), None),
    ("last_sync_at", _moment, None),
    ("last_sync_attempt_at", _moment, None),
    ("next_sync_at", _moment, None),
    ("sync_failures", sa.Integer(), "0"),
    ("sync_claimed_by", sa.String(length=64), None),
    ("sync_claimed_until", _moment, None),
    ("requests_day", sa.Date(), None),
    ("requests_count", sa.Integer(), "0"),
)


def upgrade() -> None:
    op.execute(
        "INSERT INTO providers (slug, name, accepts_files) "
        "VALUES ('simplefin', 'SimpleFIN Bridge', false)"
    )
    with op.batch_alter_table("provider_connections") as batch:
        for name, type_, default in _CONNECTION_COLUMNS:
            batch.add_column(
                sa.Column(name, type_, nullable=default is None, server_default=default)
            )
    op.create_index(
        "ix_provider_connections_next_sync_at", "provider_connections", ["next_sync_at"]
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _moment, server_default=_now, nullable=False),
        sa.Column("updated_at", _moment, server_default=_now, nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("events", _json, nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_webhook_endpoints_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index("ix_webhook_endpoints_user_id", "webhook_endpoints", ["user_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _moment, server_default=_now, nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", _json, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _moment, nullable=True),
        sa.Column("last_attempt_at", _moment, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", _moment, nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint(
            "endpoint_id", "event_id", name=op.f("uq_webhook_deliveries_endpoint_id")
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_endpoints_user_id", table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
    op.drop_index("ix_provider_connections_next_sync_at", table_name="provider_connections")
    with op.batch_alter_table("provider_connections") as batch:
        for name, _, _ in reversed(_CONNECTION_COLUMNS):
            batch.drop_column(name)
    op.execute("DELETE FROM providers WHERE slug = 'simplefin'")
