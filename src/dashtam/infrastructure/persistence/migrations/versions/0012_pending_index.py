"""An index of pending transactions only.

Revision ID: 0012_pending_index
Revises: 0011_transaction_feed
Create Date: 2026-12-07

Every batch of an import looks for the account's pending rows near its dates (a posted row may
be one of them, posted). Through ``ix_transactions_account_posted`` that read visits every row
of the account in the batch's date range to keep the few pending ones; a file whose rows are
not in date order makes that range the whole file, for every batch. A partial index holds only
the pending rows (few at any time), so the read costs what it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_pending_index"
down_revision: str | None = "0011_transaction_feed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index(
        "ix_transactions_pending",
        "transactions",
        ["account_id", "posted_on"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )


def downgrade() -> None:
    op.drop_index("ix_transactions_pending", table_name="transactions")
