"""Financial data: the provider catalog (seeded), connections, accounts, transactions, balances.

Revision ID: 0003_financial_data
Revises: 0002_identity
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0003_financial_data"
down_revision: str | None = "0002_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_now = sa.text("CURRENT_TIMESTAMP")


def _amount() -> sa.types.TypeEngine[Decimal]:
    # NUMERIC(20, 4) on PostgreSQL; scaled BIGINT on SQLite (see DecimalAmount).
    return sa.Numeric(20, 4).with_variant(sa.BigInteger(), "sqlite")


def _timestamps(mutable: bool) -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now, nullable=False),
    ]
    if mutable:
        columns += [
            sa.Column(
                "updated_at", sa.DateTime(timezone=True), server_default=_now, nullable=False
            ),
            sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        ]
    return columns


def upgrade() -> None:
    providers = op.create_table(
        "providers",
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("accepts_files", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_providers")),
    )
    op.bulk_insert(
        providers,
        [
            {"slug": "ofx-file", "name": "OFX / QFX file", "accepts_files": True},
            {"slug": "csv-file", "name": "CSV file", "accepts_files": True},
            {"slug": "manual", "name": "Manual entry", "accepts_files": False},
        ],
    )
    op.create_table(
        "provider_connections",
        *_timestamps(mutable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_import_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_provider_connections_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider"],
            ["providers.slug"],
            name=op.f("fk_provider_connections_provider_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_connections")),
    )
    op.create_index("ix_provider_connections_user_id", "provider_connections", ["user_id"])
    op.create_table(
        "accounts",
        *_timestamps(mutable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("connection_id", sa.Uuid(), nullable=False),
        sa.Column("provider_account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("account_type", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance", _amount(), nullable=True),
        sa.Column("balance_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["provider_connections.id"],
            name=op.f("fk_accounts_connection_id_provider_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint(
            "connection_id", "provider_account_id", name=op.f("uq_accounts_connection_id")
        ),
    )
    op.create_index("ix_accounts_user_id", "accounts", ["user_id"])
    op.create_table(
        "transactions",
        *_timestamps(mutable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("amount", _amount(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("payee", sa.String(length=255), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_transactions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "account_id", "provider_transaction_id", name=op.f("uq_transactions_account_id")
        ),
    )
    op.create_index(
        "ix_transactions_account_posted", "transactions", ["account_id", "posted_on", "id"]
    )
    op.create_table(
        "balance_snapshots",
        *_timestamps(mutable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("balance", _amount(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_balance_snapshots_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_snapshots")),
        sa.UniqueConstraint("account_id", "as_of", name=op.f("uq_balance_snapshots_account_id")),
    )


def downgrade() -> None:
    op.drop_table("balance_snapshots")
    op.drop_index("ix_transactions_account_posted", table_name="transactions")
    op.drop_table("transactions")
    op.drop_index("ix_accounts_user_id", table_name="accounts")
    op.drop_table("accounts")
    op.drop_index("ix_provider_connections_user_id", table_name="provider_connections")
    op.drop_table("provider_connections")
    op.drop_table("providers")
