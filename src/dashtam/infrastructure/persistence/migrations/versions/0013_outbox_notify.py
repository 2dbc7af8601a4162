"""Relays are woken by a notification when events are committed (PostgreSQL).

Revision ID: 0013_outbox_notify
Revises: 0012_pending_index
Create Date: 2026-12-07

A relay polled the outbox every second, so an event written by a process that does not deliver
its own (a CLI import, a sync worker, a crashed API process) waited up to that long. A
statement-level trigger sends ``NOTIFY dashtam_outbox`` with every insert; PostgreSQL delivers
it when the transaction commits (never for a rollback) and folds the notifications of one
transaction into one, so a relay that ``LISTEN``s drains as soon as events exist. Polling stays
as the fallback (a lost listening connection, SQLite, which has no notifications).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013_outbox_notify"
down_revision: str | None = "0012_pending_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "dashtam_outbox"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION dashtam_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER event_outbox_notify AFTER INSERT ON event_outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION dashtam_outbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS event_outbox_notify ON event_outbox")
    op.execute("DROP FUNCTION IF EXISTS dashtam_outbox_notify()")
