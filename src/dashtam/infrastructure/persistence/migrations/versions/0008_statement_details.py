"""Statement details: check numbers, references, available balances, how recent a row's
statement was, links between the two sides of a transfer; CSV ids derived anew.

Revision ID: 0008_statement_details
Revises: 0007_outbox_backoff
Create Date: 2026-12-02

``transactions.statement_as_of`` is the end date of the statement that last wrote the row: an
older statement imported later no longer overwrites a correction from a newer one.

CSV rows without a bank id used to get ids from (date, amount text, description); ids are now
derived from (account, date, amount to four places, normalised description, occurrence), so
that ``-3`` and ``-3.00`` or a re-cased description are one row. Stored rows are given their
new ids here, or a re-import of a file imported before would add every row a second time. The
derivation is copied, not imported: a migration must keep doing what it did when written.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0008_statement_details"
down_revision: str | None = "0007_outbox_backoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOUR_PLACES = Decimal("0.0001")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    amount = sa.BigInteger() if sqlite else sa.Numeric(20, 4)
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("check_number", sa.String(32), nullable=True))
        batch.add_column(sa.Column("reference", sa.String(64), nullable=True))
        batch.add_column(sa.Column("statement_as_of", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("transfer_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_transactions_transfer_id",
            "transactions",
            ["transfer_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_transactions_transfer_id", ["transfer_id"])
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("available_balance", amount, nullable=True))
        batch.add_column(
            sa.Column("available_balance_as_of", sa.DateTime(timezone=True), nullable=True)
        )
    _derive_csv_ids_anew(sqlite)


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("available_balance_as_of")
        batch.drop_column("available_balance")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_index("ix_transactions_transfer_id")
        batch.drop_constraint("fk_transactions_transfer_id", type_="foreignkey")
        batch.drop_column("transfer_id")
        batch.drop_column("statement_as_of")
        batch.drop_column("reference")
        batch.drop_column("check_number")


def _derive_csv_ids_anew(sqlite: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT t.id, a.provider_account_id, t.account_id, t.posted_on, t.amount, "
            "t.description FROM transactions t JOIN accounts a ON a.id = t.account_id "
            "WHERE t.provider_transaction_id LIKE 'csv:%' "
            "ORDER BY t.account_id, t.created_at, t.id"
        )
    ).all()
    seen: Counter[tuple[str, ...]] = Counter()
    updates = []
    for row in rows:
        amount = Decimal(row.amount) / 10_000 if sqlite else Decimal(row.amount)
        posted_on = row.posted_on if isinstance(row.posted_on, str) else row.posted_on.isoformat()
        key = (
            str(row.account_id),
            row.provider_account_id,
            posted_on[:10],
            f"{amount.quantize(_FOUR_PLACES):f}",
            " ".join(unicodedata.normalize("NFKC", row.description).casefold().split()),
        )
        seen[key] += 1
        material = "\x1f".join((*key[1:], str(seen[key])))
        new_id = f"csv:{hashlib.sha256(material.encode()).hexdigest()[:40]}"
        updates.append({"row_id": row.id, "new_id": new_id})
    if updates:
        bind.execute(
            sa.text("UPDATE transactions SET provider_transaction_id = :new_id WHERE id = :row_id"),
            updates,
        )
