"""Bodies of the financial-data API. Amounts travel as JSON strings, never as floats."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from dashtam.application.finance.commands import ImportReport
from dashtam.application.finance.queries import CurrencyTotals
from dashtam.application.live.commands import SyncReport
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.providers.entities import ProviderConnection, ProviderSlug
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.matching import transfer_partner
from dashtam.presentation.api.validators import PlainText
from dashtam.presentation.decimals import amount_text


class CreateConnectionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A string, not the enum type, so that an unknown provider reaches the handler, which
    # audits the attempt and answers ``unknown_provider``; the document still lists the enum.
    provider: str = Field(
        max_length=32,
        examples=["ofx-file"],
        json_schema_extra={"enum": [slug.value for slug in ProviderSlug]},
    )
    label: PlainText = Field(default="", max_length=100, examples=["Chase checking"])
    # Live providers only: the SimpleFIN setup token (claimed once, never stored or echoed).
    setup_token: str | None = Field(default=None, min_length=1, max_length=4096)


class ConnectionResponse(BaseModel):
    id: UUID
    provider: str
    label: str
    status: str = Field(description="active, needs_attention or disconnected")
    last_import_at: datetime | None
    created_at: datetime
    # Live connections: what the source asks the user to do, and the sync schedule.
    attention_message: str | None = None
    last_sync_at: datetime | None = None
    last_sync_attempt_at: datetime | None = None
    next_sync_at: datetime | None = None

    @classmethod
    def of(cls, connection: ProviderConnection) -> ConnectionResponse:
        return cls(
            id=connection.id,
            provider=connection.provider.value,
            label=connection.label,
            status=connection.status.value,
            last_import_at=connection.last_import_at,
            created_at=connection.created_at,
            attention_message=connection.attention_message,
            last_sync_at=connection.last_sync_at,
            last_sync_attempt_at=connection.last_sync_attempt_at,
            next_sync_at=connection.next_sync_at if connection.is_active else None,
        )


class SyncResponse(BaseModel):
    connection_id: UUID
    status: str
    window_start: datetime
    window_end: datetime
    requests: int
    accounts: int
    transactions_new: int
    transactions_updated: int
    transactions_unchanged: int
    transactions_removed: int
    balance_snapshots_added: int
    holdings_added: int
    messages: list[str]
    skipped: dict[str, int]

    @classmethod
    def of(cls, report: SyncReport) -> SyncResponse:
        return cls(
            connection_id=report.connection_id,
            status=report.status,
            window_start=report.window_start,
            window_end=report.window_end,
            requests=report.requests,
            accounts=report.accounts,
            transactions_new=report.transactions_new,
            transactions_updated=report.transactions_updated,
            transactions_unchanged=report.transactions_unchanged,
            transactions_removed=report.transactions_removed,
            balance_snapshots_added=report.balance_snapshots_added,
            holdings_added=report.holdings_added,
            messages=list(report.messages),
            skipped=dict(report.skipped),
        )


class ConnectionList(BaseModel):
    items: list[ConnectionResponse]


class ImportResponse(BaseModel):
    connection_id: UUID
    format: str
    accounts_created: int
    accounts_updated: int
    transactions_new: int
    transactions_updated: int
    transactions_unchanged: int
    transactions_outdated: int = Field(
        description="Rows a newer statement wrote already: kept as they are, not reverted"
    )
    balance_snapshots_added: int
    skipped: dict[str, int] = Field(
        description="What the file held that was not imported, and why",
        examples=[{"open orders": 1, "declined rows": 2}],
    )
    holdings_added: int = Field(description="Positions stored (one per security and statement)")
    investment_transactions_new: int
    investment_transactions_updated: int
    investment_transactions_unchanged: int
    investment_transactions_outdated: int

    @classmethod
    def of(cls, report: ImportReport) -> ImportResponse:
        return cls(
            connection_id=report.connection_id,
            format=report.format,
            accounts_created=report.accounts_created,
            accounts_updated=report.accounts_updated,
            transactions_new=report.transactions_new,
            transactions_updated=report.transactions_updated,
            transactions_unchanged=report.transactions_unchanged,
            transactions_outdated=report.transactions_outdated,
            balance_snapshots_added=report.balance_snapshots_added,
            skipped=dict(report.skipped),
            holdings_added=report.holdings_added,
            investment_transactions_new=report.investment_transactions_new,
            investment_transactions_updated=report.investment_transactions_updated,
            investment_transactions_unchanged=report.investment_transactions_unchanged,
            investment_transactions_outdated=report.investment_transactions_outdated,
        )


class AccountResponse(BaseModel):
    id: UUID
    connection_id: UUID
    name: str
    type: str
    currency: str
    number: str = Field(description="The provider's account number, masked to its last 4")
    balance: str | None
    balance_as_of: datetime | None
    available_balance: str | None = Field(
        description="What may be spent now (holds deducted), when the bank says"
    )
    available_balance_as_of: datetime | None

    @classmethod
    def of(cls, account: Account) -> AccountResponse:
        return cls(**account_fields(account))


def _serialisable(ident: UUID) -> UUID | str:
    """An id as pydantic-core serialises it fastest (see ``json_shaped``): a plain ``UUID`` as
    it is (SQLite's rows), asyncpg's subclass as its text (its ``str`` is C, the plain one's
    Python)."""
    return ident if type(ident) is UUID else str(ident)


def account_fields(account: Account) -> dict[str, Any]:
    """``AccountResponse``'s fields of ``account`` in the model's order (see ``json_shaped``)."""
    balance, available = account.balance, account.available_balance
    return {
        "id": _serialisable(account.id),
        "connection_id": _serialisable(account.connection_id),
        "name": account.name,
        "type": account.account_type.value,
        "currency": account.currency,
        "number": account.masked_number,
        "balance": amount_text(balance) if balance is not None else None,
        "balance_as_of": account.balance_as_of,
        "available_balance": amount_text(available) if available is not None else None,
        "available_balance_as_of": account.available_balance_as_of,
    }


class AccountList(BaseModel):
    items: list[AccountResponse]


class BalancePoint(BaseModel):
    balance: str
    as_of: datetime

    @classmethod
    def of(cls, snapshot: BalanceSnapshot) -> BalancePoint:
        return cls(balance=amount_text(snapshot.balance), as_of=snapshot.as_of)


class BalanceHistory(BaseModel):
    account_id: UUID
    currency: str
    items: list[BalancePoint]


class TransactionResponse(BaseModel):
    id: UUID
    account_id: UUID
    amount: str
    currency: str
    posted_on: date
    description: str
    payee: str | None
    memo: str | None
    status: str
    provider_transaction_id: str
    check_number: str | None
    reference: str | None
    transfer_id: UUID | None = Field(
        description="The other side of a transfer between the owner's own accounts"
    )

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionResponse:
        return cls(**transaction_fields(transaction))


def transaction_fields(transaction: Transaction) -> dict[str, Any]:
    """``TransactionResponse``'s fields of ``transaction`` in the model's order (see
    ``json_shaped``)."""
    partner = transfer_partner(transaction)  # a row marked "not a transfer": null
    return {
        "id": _serialisable(transaction.id),
        "account_id": _serialisable(transaction.account_id),
        "amount": amount_text(transaction.amount),
        "currency": transaction.currency,
        "posted_on": transaction.posted_on,
        "description": transaction.description,
        "payee": transaction.payee,
        "memo": transaction.memo,
        "status": transaction.status.value,
        "provider_transaction_id": transaction.provider_transaction_id,
        "check_number": transaction.check_number,
        "reference": transaction.reference,
        "transfer_id": None if partner is None else _serialisable(partner),
    }


class TransactionPage(BaseModel):
    items: list[TransactionResponse]
    next_cursor: str | None


class CurrencyNetWorth(BaseModel):
    currency: str
    assets: str
    liabilities: str
    net_worth: str
    prices_as_of: datetime | None = Field(
        description="The oldest price date behind the investment accounts' value "
        "(null: no positions in this currency)"
    )

    @classmethod
    def of(cls, totals: CurrencyTotals) -> CurrencyNetWorth:
        return cls(
            currency=totals.currency,
            assets=amount_text(totals.assets),
            liabilities=amount_text(totals.liabilities),
            net_worth=amount_text(totals.net_worth),
            prices_as_of=totals.prices_as_of,
        )


class NetWorthResponse(BaseModel):
    items: list[CurrencyNetWorth]
