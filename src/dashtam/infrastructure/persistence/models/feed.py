"""The transactions change log behind the sync feed (docs/feed.md), written by triggers only.

Database triggers (migration 0011) record every insert, update and delete of a ``transactions``
row here, whoever makes it: imports, syncs, pending -> posted, transfer links, cascades. No
application code writes these tables; the feed adapter only reads them.

The keys break the UUIDv7 rule on purpose: rows are minted inside triggers, where neither
database can make a UUIDv7, and ``id`` never leaves the database (clients see ``seq``).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.infrastructure.persistence.base import Base

# SQLite: a rowid alias must be declared INTEGER; AUTOINCREMENT never reuses an id.
_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")

CHANGE_OPS = ("insert", "update", "delete")


class TransactionChangeModel(Base):
    """One change of one transaction; ``seq`` orders a user's changes as they became visible.

    ``seq`` is numbered per user and stamped while the writer holds the user's feed head
    (``TransactionFeedHeadModel``) until it commits, so a reader sees a prefix of every user's
    changes: none can appear later below a position a reader already passed. No foreign keys:
    a change outlives its transaction, and a user's rows are removed by a trigger when the
    user is (a foreign key would make writers wait on a user being deleted; see 0011).
    """

    __tablename__ = "transaction_changes"
    __table_args__ = (
        CheckConstraint("op IN ('insert', 'update', 'delete')", name="op"),
        Index("uq_transaction_changes_user_seq", "user_id", "seq", unique=True),
        # Rows not stamped yet: only the writing transaction's own, read once at its commit.
        Index(
            "ix_transaction_changes_unstamped",
            "user_id",
            postgresql_where="seq IS NULL",
            sqlite_where="seq IS NULL",
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(
        nullable=False, server_default=func.current_timestamp()
    )
    user_id: Mapped[UUID] = mapped_column(nullable=False)
    transaction_id: Mapped[UUID] = mapped_column(nullable=False)
    op: Mapped[str] = mapped_column(String(8), nullable=False)
    seq: Mapped[int | None] = mapped_column(BigInteger(), nullable=True)


class TransactionFeedHeadModel(Base):
    """A user's last stamped ``seq``; its row lock orders the user's writers at commit."""

    __tablename__ = "transaction_feed_heads"

    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger(), nullable=False, server_default="0")
