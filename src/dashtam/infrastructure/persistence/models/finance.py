"""Tables of financial data: providers, connections, accounts, transactions, balances."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.accounts.entities import Account, AccountType, BalanceSnapshot
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.infrastructure.persistence.base import Base, BaseModel, BaseMutableModel
from dashtam.infrastructure.persistence.types import DecimalAmount, UTCDateTime


class ProviderModel(Base):
    """The catalog, seeded by a migration; ``slug`` is the stable key clients use."""

    __tablename__ = "providers"

    slug: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    accepts_files: Mapped[bool] = mapped_column(nullable=False)


class ConnectionModel(BaseMutableModel):
    """A connection row. Not the domain entity: convert with ``to_entity``/``from_entity``."""

    __tablename__ = "provider_connections"
    __table_args__ = (
        Index("ix_provider_connections_user_id", "user_id"),
        Index("ix_provider_connections_next_sync_at", "next_sync_at"),
    )

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    provider: Mapped[str] = mapped_column(ForeignKey("providers.slug"), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    last_import_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Sealed by the credentials cipher (context ``connection:<id>``); never in clear.
    credentials: Mapped[str | None] = mapped_column(Text(), nullable=True)
    attention_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_sync_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    next_sync_at: Mapped[datetime | None] = mapped_column(nullable=True)
    sync_failures: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    # A worker's lease on the connection's next sync (crashed workers' leases expire).
    sync_claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sync_claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # Requests made to the source on ``requests_day`` (UTC): the daily budget.
    requests_day: Mapped[date | None] = mapped_column(Date(), nullable=True)
    requests_count: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")

    def to_entity(self) -> ProviderConnection:
        return ProviderConnection(
            id=self.id,
            user_id=self.user_id,
            provider=ProviderSlug(self.provider),
            label=self.label,
            status=ConnectionStatus(self.status),
            last_import_at=self.last_import_at,
            attention_message=self.attention_message,
            last_sync_at=self.last_sync_at,
            last_sync_attempt_at=self.last_sync_attempt_at,
            next_sync_at=self.next_sync_at,
            sync_failures=self.sync_failures,
            created_at=self.created_at,
            updated_at=self.updated_at,
            version=self.version,
        )

    @classmethod
    def from_entity(cls, connection: ProviderConnection) -> ConnectionModel:
        """A new row: its ``version`` starts at 1 whatever the entity carries."""
        return cls(
            id=connection.id,
            user_id=connection.user_id,
            provider=connection.provider.value,
            label=connection.label,
            status=connection.status.value,
            last_import_at=connection.last_import_at,
            attention_message=connection.attention_message,
            last_sync_at=connection.last_sync_at,
            last_sync_attempt_at=connection.last_sync_attempt_at,
            next_sync_at=connection.next_sync_at,
            sync_failures=connection.sync_failures,
            created_at=connection.created_at,
            updated_at=connection.updated_at,
        )

    def apply(self, connection: ProviderConnection) -> None:
        """Copy the entity's mutable fields onto this row (``version`` is SQLAlchemy's job)."""
        self.label = connection.label
        self.status = connection.status.value
        self.last_import_at = connection.last_import_at
        self.attention_message = connection.attention_message
        self.last_sync_at = connection.last_sync_at
        self.last_sync_attempt_at = connection.last_sync_attempt_at
        self.next_sync_at = connection.next_sync_at
        self.sync_failures = connection.sync_failures


class AccountModel(BaseMutableModel):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("connection_id", "provider_account_id"),
        Index("ix_accounts_user_id", "user_id"),
    )

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    connection_id: Mapped[UUID] = mapped_column(
        ForeignKey("provider_connections.id", ondelete="CASCADE"), nullable=False
    )
    provider_account_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    account_type: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    balance: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    balance_as_of: Mapped[datetime | None] = mapped_column(nullable=True)
    available_balance: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    available_balance_as_of: Mapped[datetime | None] = mapped_column(nullable=True)

    def to_entity(self) -> Account:
        return Account(
            id=self.id,
            user_id=self.user_id,
            connection_id=self.connection_id,
            provider_account_id=self.provider_account_id,
            name=self.name,
            account_type=AccountType(self.account_type),
            currency=self.currency,
            balance=self.balance,
            balance_as_of=self.balance_as_of,
            available_balance=self.available_balance,
            available_balance_as_of=self.available_balance_as_of,
            created_at=self.created_at,
            updated_at=self.updated_at,
            version=self.version,
        )


class TransactionModel(BaseModel):
    """Written in bulk by imports (never one ORM object per row); ``updated_at`` tracks
    pending -> posted and other corrections from later statements."""

    __tablename__ = "transactions"
    __table_args__ = (
        # The idempotency key of imports: ON CONFLICT targets exactly this constraint.
        UniqueConstraint("account_id", "provider_transaction_id"),
        Index("ix_transactions_account_posted", "account_id", "posted_on", "id"),
        Index("ix_transactions_transfer_id", "transfer_id"),
        # Pending rows only: what each import batch looks up (migration 0012).
        Index(
            "ix_transactions_pending",
            "account_id",
            "posted_on",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    provider_transaction_id: Mapped[str] = mapped_column(String(255), nullable=False)
    amount: Mapped[Decimal] = mapped_column(DecimalAmount(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    posted_on: Mapped[date] = mapped_column(Date(), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    payee: Mapped[str | None] = mapped_column(String(255), nullable=True)
    memo: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    check_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    statement_as_of: Mapped[datetime | None] = mapped_column(nullable=True)
    transfer_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL", name="fk_transactions_transfer_id"),
        nullable=True,
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    def to_entity(self) -> Transaction:
        return Transaction(
            id=self.id,
            account_id=self.account_id,
            provider_transaction_id=self.provider_transaction_id,
            amount=self.amount,
            currency=self.currency,
            posted_on=self.posted_on,
            description=self.description,
            payee=self.payee,
            memo=self.memo,
            status=TransactionStatus(self.status),
            check_number=self.check_number,
            reference=self.reference,
            statement_as_of=self.statement_as_of,
            transfer_id=self.transfer_id,
            created_at=self.created_at,
        )


class BalanceSnapshotModel(BaseModel):
    """Immutable: one row per account and statement date; re-importing adds nothing."""

    __tablename__ = "balance_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "as_of"),)

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    balance: Mapped[Decimal] = mapped_column(DecimalAmount(), nullable=False)
    as_of: Mapped[datetime] = mapped_column(nullable=False)

    def to_entity(self) -> BalanceSnapshot:
        return BalanceSnapshot(
            id=self.id,
            account_id=self.account_id,
            balance=self.balance,
            as_of=self.as_of,
            created_at=self.created_at,
        )
