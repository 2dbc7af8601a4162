"""Bodies of the investments API. Money and quantities travel as JSON strings, never floats."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, Field

from dashtam.application.investments.queries import ValueHistory
from dashtam.application.investments.views import (
    AccountHoldings,
    AccountPosition,
    CurrencyValue,
    SecurityPosition,
    value_totals,
)
from dashtam.domain.investments.entities import (
    Holding,
    InvestmentTransaction,
    Security,
    ValuePoint,
)
from dashtam.presentation.decimals import amount_text, quantity_text


def _amount(value: Decimal | None) -> str | None:
    return amount_text(value) if value is not None else None


def _quantity(value: Decimal | None) -> str | None:
    return quantity_text(value) if value is not None else None


class SecurityResponse(BaseModel):
    id: UUID
    unique_id: str = Field(description="The identifier the files use, e.g. a CUSIP")
    unique_id_type: str = Field(examples=["CUSIP", "ISIN", "TICKER"])
    ticker: str | None
    name: str
    kind: str = Field(examples=["stock", "mutual_fund", "etf", "debt", "option", "other"])
    currency: str | None

    @classmethod
    def of(cls, security: Security) -> SecurityResponse:
        return cls(
            id=security.id,
            unique_id=security.unique_id,
            unique_id_type=security.unique_id_type,
            ticker=security.ticker,
            name=security.name,
            kind=security.kind.value,
            currency=security.currency,
        )


class HoldingResponse(BaseModel):
    security: SecurityResponse
    units: str = Field(examples=["10", "0.5"])
    unit_price: str
    market_value: str
    currency: str
    as_of: datetime = Field(description="The statement these positions are from")
    price_as_of: datetime | None
    position_type: str = Field(examples=["long", "short"])
    held_in: str = Field(examples=["cash", "margin", "short", "other"])
    cost_basis: str | None = Field(
        description="What the position cost: the file's, else derived from the account's own "
        "trades when they explain every unit; null when neither knows"
    )
    unrealised_gain: str | None = Field(description="Market value less cost basis, when known")

    @classmethod
    def of(cls, holding: Holding) -> HoldingResponse:
        return cls(
            security=SecurityResponse.of(holding.security),
            units=quantity_text(holding.units),
            unit_price=quantity_text(holding.unit_price),
            market_value=amount_text(holding.market_value),
            currency=holding.currency,
            as_of=holding.as_of,
            price_as_of=holding.price_as_of,
            position_type=holding.position_type.value,
            held_in=holding.held_in.value,
            cost_basis=_amount(holding.cost_basis),
            unrealised_gain=_amount(holding.unrealised_gain),
        )


class CurrencyTotal(BaseModel):
    currency: str
    cash: str
    positions: str
    total: str

    @classmethod
    def of(cls, value: CurrencyValue) -> CurrencyTotal:
        return cls(
            currency=value.currency,
            cash=amount_text(value.cash),
            positions=amount_text(value.positions),
            total=amount_text(value.total),
        )


class AccountHoldingsResponse(BaseModel):
    account_id: UUID
    currency: str = Field(description="The account's currency, which its cash is in")
    as_of: datetime | None = Field(description="The snapshot's time (null: no positions)")
    available_cash: str | None = Field(description="Null when no statement gave the cash")
    cash_as_of: datetime | None
    items: list[HoldingResponse]
    totals: list[CurrencyTotal] = Field(description="Cash plus positions, per currency")

    @classmethod
    def of(cls, found: AccountHoldings) -> AccountHoldingsResponse:
        return cls(
            account_id=found.account.id,
            currency=found.account.currency,
            as_of=found.as_of,
            available_cash=_amount(found.available_cash),
            cash_as_of=found.cash_as_of,
            items=[HoldingResponse.of(h) for h in found.holdings],
            totals=[CurrencyTotal.of(t) for t in found.totals],
        )


class AccountShare(BaseModel):
    account_id: UUID
    units: str
    market_value: str
    as_of: datetime

    @classmethod
    def of(cls, position: AccountPosition) -> AccountShare:
        return cls(
            account_id=position.account_id,
            units=quantity_text(position.units),
            market_value=amount_text(position.market_value),
            as_of=position.as_of,
        )


class SecurityPositionResponse(BaseModel):
    security: SecurityResponse
    currency: str
    units: str = Field(description="Summed over the accounts")
    market_value: str = Field(description="Summed over the accounts")
    accounts: list[AccountShare]

    @classmethod
    def of(cls, position: SecurityPosition) -> SecurityPositionResponse:
        return cls(
            security=SecurityResponse.of(position.security),
            currency=position.currency,
            units=quantity_text(position.units),
            market_value=amount_text(position.market_value),
            accounts=[AccountShare.of(a) for a in position.accounts],
        )


class MarketValueTotal(BaseModel):
    currency: str
    market_value: str


class HoldingsOverview(BaseModel):
    items: list[SecurityPositionResponse]
    totals: list[MarketValueTotal] = Field(description="Market value per currency")

    @classmethod
    def of(cls, positions: list[SecurityPosition]) -> HoldingsOverview:
        return cls(
            items=[SecurityPositionResponse.of(p) for p in positions],
            totals=[
                MarketValueTotal(currency=t.currency, market_value=amount_text(t.positions))
                for t in value_totals(positions)
            ],
        )


class InvestmentTransactionResponse(BaseModel):
    id: UUID
    account_id: UUID
    provider_transaction_id: str
    kind: str
    trade_date: date
    settle_date: date | None
    total: str = Field(description="The cash effect, negative for a purchase")
    currency: str
    security: SecurityResponse | None
    units: str | None = Field(description="Negative when units leave the account")
    unit_price: str | None
    commission: str | None
    fees: str | None
    taxes: str | None
    load: str | None
    income_type: str | None
    held_in: str | None = Field(description="The sub-account the security sits in")
    cash_held_in: str | None = Field(description="The sub-account of the cash side")
    source_401k: str | None = Field(examples=["PRETAX", "MATCH"])
    memo: str | None
    statement_as_of: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: InvestmentTransaction) -> InvestmentTransactionResponse:
        return cls(
            id=row.id,
            account_id=row.account_id,
            provider_transaction_id=row.provider_transaction_id,
            kind=row.kind.value,
            trade_date=row.trade_date,
            settle_date=row.settle_date,
            total=amount_text(row.total),
            currency=row.currency,
            security=SecurityResponse.of(row.security) if row.security else None,
            units=_quantity(row.units),
            unit_price=_quantity(row.unit_price),
            commission=_amount(row.commission),
            fees=_amount(row.fees),
            taxes=_amount(row.taxes),
            load=_amount(row.load),
            income_type=row.income_type.value if row.income_type else None,
            held_in=row.held_in.value if row.held_in else None,
            cash_held_in=row.cash_held_in.value if row.cash_held_in else None,
            source_401k=row.source_401k,
            memo=row.memo,
            statement_as_of=row.statement_as_of,
            created_at=row.created_at,
        )


class InvestmentTransactionPage(BaseModel):
    items: list[InvestmentTransactionResponse]
    next_cursor: str | None


class ValuePointResponse(BaseModel):
    as_of: datetime
    cash: str
    positions: str
    total: str

    @classmethod
    def of(cls, point: ValuePoint) -> ValuePointResponse:
        return cls(
            as_of=point.as_of,
            cash=amount_text(point.cash),
            positions=amount_text(point.positions),
            total=amount_text(point.total),
        )


class ValueHistoryResponse(BaseModel):
    account_id: UUID
    currency: str
    items: list[ValuePointResponse] = Field(description="One per statement, oldest first")

    @classmethod
    def of(cls, found: ValueHistory) -> ValueHistoryResponse:
        return cls(
            account_id=found.account.id,
            currency=found.account.currency,
            items=[ValuePointResponse.of(p) for p in found.points],
        )
