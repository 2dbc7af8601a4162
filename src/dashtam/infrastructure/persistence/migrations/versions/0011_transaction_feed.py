"""Transactions sync feed: a change log filled by triggers, numbered per user in commit order.

Revision ID: 0011_transaction_feed
Revises: 0010_live_sync
Create Date: 2026-12-08

Capture. Triggers record every change of a ``transactions`` row in ``transaction_changes``
(user, transaction id, op), whatever path made it: bulk upserts, pending -> posted, transfer
links, the ``SET NULL`` of a deleted partner's link, direct deletes, cascades. A transaction
row has no user: the triggers look it up in ``accounts``. When an account is deleted (by
itself, by a connection purge, by its user's deletion) its row is gone before the cascade
reaches its transactions, so a BEFORE DELETE trigger on ``accounts`` records their removal
first, and the transactions' own delete trigger finds no account and records nothing more.
Both backends run the cascade after the parent row is gone (checked in tests). A user's
deletion records nothing (the users row is gone too) and an AFTER DELETE trigger on ``users``
drops the user's change rows and feed head: the feed of a deleted user no longer matters.

Order. A reader pages by ``seq > cursor``; a change that became visible after a reader
passed its number would be lost. So ``seq`` is numbered per user at commit time:

* PostgreSQL: rows are inserted with ``seq`` NULL; a DEFERRABLE INITIALLY DEFERRED constraint
  trigger runs at COMMIT, locks the user's ``transaction_feed_heads`` row (UPDATE ...
  RETURNING), numbers the transaction's rows after the head and keeps the lock until the
  commit is done. The next writer of that user waits for the lock, then reads the committed
  head: numbers are handed out in commit order, a writer's numbers are visible as soon as
  they exist, and a snapshot always holds a prefix of each user's numbers (a transaction
  leaves the proc array, i.e. becomes visible, before it releases its locks).
* SQLite: one writer at a time from BEGIN IMMEDIATE to COMMIT; a row trigger numbers each
  change as it is inserted, which is commit order.

Deadlocks. Taking the head lock while rows are changed would deadlock (A locks a row, then
waits for the head B holds while B waits for A's row). Here the lock is taken only at commit,
when the transaction has done all its row work: a committing transaction waits for nothing
but head rows (and a new head row another committer is inserting), and takes them in
user-id order. Whoever holds a head row is itself committing and waits only on heads later
in that order: no cycle. The recording triggers take no locks beyond their own INSERT (no
foreign keys on the log: a foreign key to ``users`` would make a writer wait on a user
being deleted, who waits on that writer's account lock). A user's deletion removes the
user's head only after its cascades, by then every writer of that user has committed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_transaction_feed"
down_revision: str | None = "0010_live_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_PG_FUNCTIONS = (
    """
    CREATE FUNCTION transaction_feed_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO transaction_changes (user_id, transaction_id, op)
        SELECT a.user_id, n.id, 'insert' FROM new_rows n JOIN accounts a ON a.id = n.account_id
        ORDER BY n.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION transaction_feed_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO transaction_changes (user_id, transaction_id, op)
        SELECT a.user_id, n.id, 'update' FROM new_rows n JOIN accounts a ON a.id = n.account_id
        ORDER BY n.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION transaction_feed_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      -- In a cascade from accounts the account is gone: accounts' own trigger recorded it.
      INSERT INTO transaction_changes (user_id, transaction_id, op)
        SELECT a.user_id, o.id, 'delete' FROM old_rows o JOIN accounts a ON a.id = o.account_id
        ORDER BY o.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION transaction_feed_account_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO transaction_changes (user_id, transaction_id, op)
        SELECT OLD.user_id, t.id, 'delete' FROM transactions t
        WHERE t.account_id = OLD.id AND EXISTS (SELECT 1 FROM users u WHERE u.id = OLD.user_id)
        ORDER BY t.id;
      RETURN OLD;
    END $$
    """,
    """
    CREATE FUNCTION transaction_feed_user_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM transaction_changes WHERE user_id = OLD.id;
      DELETE FROM transaction_feed_heads WHERE user_id = OLD.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION transaction_feed_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      owner uuid;
      fresh bigint;
      top bigint;
    BEGIN
      -- One call per change row at COMMIT; the first numbers them all, the rest see it done.
      -- Rows with a NULL seq that this transaction can see are its own: others' committed
      -- rows are all numbered, their uncommitted ones invisible.
      PERFORM 1 FROM transaction_changes WHERE id = NEW.id AND seq IS NULL;
      IF NOT FOUND THEN
        RETURN NULL;
      END IF;
      FOR owner IN
        SELECT DISTINCT user_id FROM transaction_changes WHERE seq IS NULL ORDER BY user_id
      LOOP
        SELECT count(*) INTO fresh FROM transaction_changes
          WHERE seq IS NULL AND user_id = owner;
        INSERT INTO transaction_feed_heads (user_id, last_seq) VALUES (owner, 0)
          ON CONFLICT (user_id) DO NOTHING;
        UPDATE transaction_feed_heads SET last_seq = last_seq + fresh
          WHERE user_id = owner RETURNING last_seq INTO top;
        UPDATE transaction_changes c SET seq = top - fresh + o.n
          FROM (
            SELECT id, row_number() OVER (ORDER BY id) AS n FROM transaction_changes
            WHERE seq IS NULL AND user_id = owner
          ) o
          WHERE c.id = o.id;
      END LOOP;
      RETURN NULL;
    END $$
    """,
)

_PG_TRIGGERS = (
    "CREATE TRIGGER transactions_feed_insert AFTER INSERT ON transactions "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION transaction_feed_inserted()",
    "CREATE TRIGGER transactions_feed_update AFTER UPDATE ON transactions "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION transaction_feed_updated()",
    "CREATE TRIGGER transactions_feed_delete AFTER DELETE ON transactions "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION transaction_feed_deleted()",
    "CREATE TRIGGER accounts_feed_delete BEFORE DELETE ON accounts "
    "FOR EACH ROW EXECUTE FUNCTION transaction_feed_account_deleted()",
    "CREATE TRIGGER users_feed_forget AFTER DELETE ON users "
    "FOR EACH ROW EXECUTE FUNCTION transaction_feed_user_deleted()",
    "CREATE CONSTRAINT TRIGGER transaction_changes_stamp AFTER INSERT ON transaction_changes "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION transaction_feed_stamp()",
)

_PG_DROPS = (
    "DROP TRIGGER IF EXISTS transaction_changes_stamp ON transaction_changes",
    "DROP TRIGGER IF EXISTS users_feed_forget ON users",
    "DROP TRIGGER IF EXISTS accounts_feed_delete ON accounts",
    "DROP TRIGGER IF EXISTS transactions_feed_delete ON transactions",
    "DROP TRIGGER IF EXISTS transactions_feed_update ON transactions",
    "DROP TRIGGER IF EXISTS transactions_feed_insert ON transactions",
    "DROP FUNCTION IF EXISTS transaction_feed_stamp()",
    "DROP FUNCTION IF EXISTS transaction_feed_user_deleted()",
    "DROP FUNCTION IF EXISTS transaction_feed_account_deleted()",
    "DROP FUNCTION IF EXISTS transaction_feed_deleted()",
    "DROP FUNCTION IF EXISTS transaction_feed_updated()",
    "DROP FUNCTION IF EXISTS transaction_feed_inserted()",
)


_SQLITE_TRIGGERS = (
    "CREATE TRIGGER transactions_feed_insert AFTER INSERT ON transactions BEGIN "
    "INSERT INTO transaction_changes (user_id, transaction_id, op) "
    "SELECT a.user_id, NEW.id, 'insert' FROM accounts a WHERE a.id = NEW.account_id; END",
    "CREATE TRIGGER transactions_feed_update AFTER UPDATE ON transactions BEGIN "
    "INSERT INTO transaction_changes (user_id, transaction_id, op) "
    "SELECT a.user_id, NEW.id, 'update' FROM accounts a WHERE a.id = NEW.account_id; END",
    # In a cascade from accounts the account is gone: accounts' own trigger recorded it.
    "CREATE TRIGGER transactions_feed_delete AFTER DELETE ON transactions BEGIN "
    "INSERT INTO transaction_changes (user_id, transaction_id, op) "
    "SELECT a.user_id, OLD.id, 'delete' FROM accounts a WHERE a.id = OLD.account_id; END",
    "CREATE TRIGGER accounts_feed_delete BEFORE DELETE ON accounts BEGIN "
    "INSERT INTO transaction_changes (user_id, transaction_id, op) "
    "SELECT OLD.user_id, t.id, 'delete' FROM transactions t WHERE t.account_id = OLD.id "
    "AND EXISTS (SELECT 1 FROM users u WHERE u.id = OLD.user_id) ORDER BY t.id; END",
    "CREATE TRIGGER users_feed_forget AFTER DELETE ON users BEGIN "
    "DELETE FROM transaction_changes WHERE user_id = OLD.id; "
    "DELETE FROM transaction_feed_heads WHERE user_id = OLD.id; END",
    # One writer at a time: numbering each row as it is inserted is commit order. No INSERT OR
    # IGNORE: the conflict policy of an outer statement overrides a trigger's own.
    "CREATE TRIGGER transaction_changes_stamp AFTER INSERT ON transaction_changes BEGIN "
    "INSERT INTO transaction_feed_heads (user_id, last_seq) SELECT NEW.user_id, 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM transaction_feed_heads WHERE user_id = NEW.user_id); "
    "UPDATE transaction_feed_heads SET last_seq = last_seq + 1 WHERE user_id = NEW.user_id; "
    "UPDATE transaction_changes SET seq = (SELECT last_seq FROM transaction_feed_heads "
    "WHERE user_id = NEW.user_id) WHERE id = NEW.id; END",
)

_SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS transaction_changes_stamp",
    "DROP TRIGGER IF EXISTS users_feed_forget",
    "DROP TRIGGER IF EXISTS accounts_feed_delete",
    "DROP TRIGGER IF EXISTS transactions_feed_delete",
    "DROP TRIGGER IF EXISTS transactions_feed_update",
    "DROP TRIGGER IF EXISTS transactions_feed_insert",
)


def upgrade() -> None:
    op.create_table(
        "transaction_changes",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "op IN ('insert', 'update', 'delete')", name=op.f("ck_transaction_changes_op")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "uq_transaction_changes_user_seq",
        "transaction_changes",
        ["user_id", "seq"],
        unique=True,
    )
    op.create_index(
        "ix_transaction_changes_unstamped",
        "transaction_changes",
        ["user_id"],
        postgresql_where=sa.text("seq IS NULL"),
        sqlite_where=sa.text("seq IS NULL"),
    )
    op.create_table(
        "transaction_feed_heads",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_transaction_feed_heads")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        for statement in (*_PG_FUNCTIONS, *_PG_TRIGGERS):
            op.execute(statement)


def downgrade() -> None:
    drops = _SQLITE_DROPS if op.get_bind().dialect.name == "sqlite" else _PG_DROPS
    for statement in drops:
        op.execute(statement)
    op.drop_table("transaction_feed_heads")
    op.drop_index("ix_transaction_changes_unstamped", table_name="transaction_changes")
    op.drop_index("uq_transaction_changes_user_seq", table_name="transaction_changes")
    op.drop_table("transaction_changes")
