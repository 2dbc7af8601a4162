"""Tables of investments: securities (shared), and each account's positions, trades and cash."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.investments.entities import (
    HeldIn,
    Holding,
    IncomeType,
    InvestmentBalance,
    InvestmentKind,
    InvestmentTransaction,
    PositionType,
    Security,
    SecurityKind,
)
from dashtam.infrastructure.persistence.base import BaseModel, BaseMutableModel
from dashtam.infrastructure.persistence.types import (
    DecimalAmount,
    DecimalQuantity,
    JSONType,
    UTCDateTime,
)


class SecurityModel(BaseMutableModel):
    """Shared by every user; nothing in it says who holds it."""

    __tablename__ = "securities"
    # The identity of a security across files and users: upserts target exactly this.
    __table_args__ = (UniqueConstraint("unique_id_type", "unique_id"),)

    unique_id_type: Mapped[str] = mapped_column(String(32), nullable=False)
    unique_id: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    ticker: Mapped[str | None] = mapped_column(String(32), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    info_as_of: Mapped[datetime | None] = mapped_column(nullable=True)

    def to_entity(self) -> Security:
        return Security(
            id=self.id,
            unique_id=self.unique_id,
            unique_id_type=self.unique_id_type,
            name=self.name,
            ticker=self.ticker,
            kind=SecurityKind(self.kind),
            currency=self.currency,
            info_as_of=self.info_as_of,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class HoldingModel(BaseModel):
    """Immutable: one row per position of one statement; re-importing adds nothing."""

    __tablename__ = "holdings"
    __table_args__ = (
        # A security can be held long in cash and short in margin at the same time.
        UniqueConstraint("account_id", "security_id", "as_of", "held_in", "position_type"),
        Index("ix_holdings_account_as_of", "account_id", "as_of"),
    )

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    security_id: Mapped[UUID] = mapped_column(ForeignKey("securities.id"), nullable=False)
    as_of: Mapped[datetime] = mapped_column(nullable=False)
    units: Mapped[Decimal] = mapped_column(DecimalQuantity(), nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(DecimalQuantity(), nullable=False)
    market_value: Mapped[Decimal] = mapped_column(DecimalAmount(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    price_as_of: Mapped[datetime | None] = mapped_column(nullable=True)
    position_type: Mapped[str] = mapped_column(String(8), nullable=False)
    held_in: Mapped[str] = mapped_column(String(8), nullable=False)
    cost_basis: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)

    def to_entity(self, security: Security) -> Holding:
        return Holding(
            id=self.id,
            account_id=self.account_id,
            security=security,
            as_of=self.as_of,
            units=self.units,
            unit_price=self.unit_price,
            market_value=self.market_value,
            currency=self.currency,
            price_as_of=self.price_as_of,
            position_type=PositionType(self.position_type),
            held_in=HeldIn(self.held_in),
            cost_basis=self.cost_basis,
            created_at=self.created_at,
        )


class InvestmentTransactionModel(BaseModel):
    """Written in bulk by imports, like ``transactions``; ``updated_at`` tracks corrections."""

    __tablename__ = "investment_transactions"
    __table_args__ = (
        # The idempotency key of imports: ON CONFLICT targets exactly this constraint.
        UniqueConstraint("account_id", "provider_transaction_id"),
        Index("ix_investment_transactions_account_trade", "account_id", "trade_date", "id"),
    )

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    provider_transaction_id: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    security_id: Mapped[UUID | None] = mapped_column(ForeignKey("securities.id"), nullable=True)
    trade_date: Mapped[date] = mapped_column(Date(), nullable=False)
    settle_date: Mapped[date | None] = mapped_column(Date(), nullable=True)
    units: Mapped[Decimal | None] = mapped_column(DecimalQuantity(), nullable=True)
    unit_price: Mapped[Decimal | None] = mapped_column(DecimalQuantity(), nullable=True)
    commission: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    fees: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    taxes: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    load: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    total: Mapped[Decimal] = mapped_column(DecimalAmount(), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    income_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    held_in: Mapped[str | None] = mapped_column(String(8), nullable=True)
    cash_held_in: Mapped[str | None] = mapped_column(String(8), nullable=True)
    source_401k: Mapped[str | None] = mapped_column(String(32), nullable=True)
    memo: Mapped[str | None] = mapped_column(String(500), nullable=True)
    statement_as_of: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    def to_entity(self, security: Security | None) -> InvestmentTransaction:
        return InvestmentTransaction(
            id=self.id,
            account_id=self.account_id,
            provider_transaction_id=self.provider_transaction_id,
            kind=InvestmentKind(self.kind),
            trade_date=self.trade_date,
            total=self.total,
            currency=self.currency,
            security=security,
            settle_date=self.settle_date,
            units=self.units,
            unit_price=self.unit_price,
            commission=self.commission,
            fees=self.fees,
            taxes=self.taxes,
            load=self.load,
            income_type=IncomeType(self.income_type) if self.income_type else None,
            held_in=HeldIn(self.held_in) if self.held_in else None,
            cash_held_in=HeldIn(self.cash_held_in) if self.cash_held_in else None,
            source_401k=self.source_401k,
            memo=self.memo,
            statement_as_of=self.statement_as_of,
            created_at=self.created_at,
        )


class InvestmentBalanceModel(BaseModel):
    """Immutable: an account's cash side, one row per statement time."""

    __tablename__ = "investment_balances"
    __table_args__ = (UniqueConstraint("account_id", "as_of"),)

    account_id: Mapped[UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )
    as_of: Mapped[datetime] = mapped_column(nullable=False)
    available_cash: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    margin_balance: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    short_balance: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    buying_power: Mapped[Decimal | None] = mapped_column(DecimalAmount(), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)

    def to_entity(self) -> InvestmentBalance:
        return InvestmentBalance(
            id=self.id,
            account_id=self.account_id,
            as_of=self.as_of,
            available_cash=self.available_cash,
            margin_balance=self.margin_balance,
            short_balance=self.short_balance,
            buying_power=self.buying_power,
            details={str(k): str(v) for k, v in self.details.items()},
            created_at=self.created_at,
        )
