"""Transactions of an account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id


class TransactionStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """Unique per (account, provider transaction id); amounts in the account's currency."""

    id: UUID = field(default_factory=new_id)
    account_id: UUID
    provider_transaction_id: str
    amount: Decimal
    currency: str
    posted_on: date
    description: str
    payee: str | None = None
    memo: str | None = None
    status: TransactionStatus = TransactionStatus.POSTED
    check_number: str | None = None
    reference: str | None = None
    # The end of the statement that last wrote this row: an older one does not overwrite it.
    statement_as_of: datetime | None = None
    # The other side of a transfer between the owner's own accounts, once linked.
    transfer_id: UUID | None = None
    created_at: datetime = field(default_factory=utcnow)
