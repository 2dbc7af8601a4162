"""Outbox backoff: a failed event waits until ``next_attempt_at`` before its next attempt.

Revision ID: 0007_outbox_backoff
Revises: 0006_canonical_email
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_outbox_backoff"
down_revision: str | None = "0006_canonical_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: existing pending events are due at once, as they were before.
    op.add_column(
        "event_outbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("event_outbox", "next_attempt_at")
