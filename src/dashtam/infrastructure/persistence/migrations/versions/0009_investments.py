"""Investments: securities (shared by everyone), holdings, investment transactions, and each
investment account's cash balances.

Revision ID: 0009_investments
Revises: 0008_statement_details
Create Date: 2026-12-02

Units and unit prices are exact to 10 places: NUMERIC(38, 10) on PostgreSQL, a canonical
decimal text on SQLite (see ``DecimalQuantity``); money columns are amounts as in 0003.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_investments"
down_revision: str | None = "0008_statement_details"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_now = sa.text("CURRENT_TIMESTAMP")
_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _amount() -> sa.types.TypeEngine[Decimal]:
    # NUMERIC(20, 4) on PostgreSQL; scaled BIGINT on SQLite (see DecimalAmount).
    return sa.Numeric(20, 4).with_variant(sa.BigInteger(), "sqlite")


def _quantity() -> sa.types.TypeEngine[Decimal]:
    # NUMERIC(38, 10) on PostgreSQL; canonical decimal TEXT on SQLite (see DecimalQuantity).
    return sa.Numeric(38, 10).with_variant(sa.Text(), "sqlite")


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


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def _security_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["security_id"], ["securities.id"], name=op.f(f"fk_{table}_security_id_securities")
    )


def upgrade() -> None:
    op.create_table(
        "securities",
        *_timestamps(mutable=True),
        sa.Column("unique_id_type", sa.String(length=32), nullable=False),
        sa.Column("unique_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("info_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_securities")),
        sa.UniqueConstraint(
            "unique_id_type", "unique_id", name=op.f("uq_securities_unique_id_type")
        ),
    )
    op.create_table(
        "holdings",
        *_timestamps(mutable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("security_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("units", _quantity(), nullable=False),
        sa.Column("unit_price", _quantity(), nullable=False),
        sa.Column("market_value", _amount(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position_type", sa.String(length=8), nullable=False),
        sa.Column("held_in", sa.String(length=8), nullable=False),
        sa.Column("cost_basis", _amount(), nullable=True),
        _account_fk("holdings"),
        _security_fk("holdings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holdings")),
        sa.UniqueConstraint(
            "account_id",
            "security_id",
            "as_of",
            "held_in",
            "position_type",
            name=op.f("uq_holdings_account_id"),
        ),
    )
    op.create_index("ix_holdings_account_as_of", "holdings", ["account_id", "as_of"])
    op.create_table(
        "investment_transactions",
        *_timestamps(mutable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("provider_transaction_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("security_id", sa.Uuid(), nullable=True),
        sa.Column("trade_date", sa.Date(), nullable=False),
        sa.Column("settle_date", sa.Date(), nullable=True),
        sa.Column("units", _quantity(), nullable=True),
        sa.Column("unit_price", _quantity(), nullable=True),
        sa.Column("commission", _amount(), nullable=True),
        sa.Column("fees", _amount(), nullable=True),
        sa.Column("taxes", _amount(), nullable=True),
        sa.Column("load", _amount(), nullable=True),
        sa.Column("total", _amount(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("income_type", sa.String(length=32), nullable=True),
        sa.Column("held_in", sa.String(length=8), nullable=True),
        sa.Column("cash_held_in", sa.String(length=8), nullable=True),
        sa.Column("source_401k", sa.String(length=32), nullable=True),
        sa.Column("memo", sa.String(length=500), nullable=True),
        sa.Column("statement_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("investment_transactions"),
        _security_fk("investment_transactions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investment_transactions")),
        sa.UniqueConstraint(
            "account_id",
            "provider_transaction_id",
            name=op.f("uq_investment_transactions_account_id"),
        ),
    )
    op.create_index(
        "ix_investment_transactions_account_trade",
        "investment_transactions",
        ["account_id", "trade_date", "id"],
    )
    op.create_table(
        "investment_balances",
        *_timestamps(mutable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_cash", _amount(), nullable=True),
        sa.Column("margin_balance", _amount(), nullable=True),
        sa.Column("short_balance", _amount(), nullable=True),
        sa.Column("buying_power", _amount(), nullable=True),
        sa.Column("details", _json, nullable=False),
        _account_fk("investment_balances"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investment_balances")),
        sa.UniqueConstraint("account_id", "as_of", name=op.f("uq_investment_balances_account_id")),
    )


def downgrade() -> None:
    op.drop_table("investment_balances")
    op.drop_index("ix_investment_transactions_account_trade", table_name="investment_transactions")
    op.drop_table("investment_transactions")
    op.drop_index("ix_holdings_account_as_of", table_name="holdings")
    op.drop_table("holdings")
    op.drop_table("securities")
