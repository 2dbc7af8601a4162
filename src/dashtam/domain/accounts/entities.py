"""Financial accounts and their balance history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id


class AccountType(StrEnum):
    CHECKING = "checking"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    BROKERAGE = "brokerage"
    LOAN = "loan"
    OTHER = "other"

    @property
    def is_liability(self) -> bool:
        return self in (AccountType.CREDIT_CARD, AccountType.LOAN)


def mask_account_number(number: str) -> str:
    """Only the last four characters are ever shown."""
    tail = number[-4:]
    return "\u2022\u2022\u2022\u2022" + tail if len(number) > 4 else tail


@dataclass(slots=True, kw_only=True)
class Account:
    id: UUID = field(default_factory=new_id)
    user_id: UUID
    connection_id: UUID
    provider_account_id: str
    name: str
    account_type: AccountType
    currency: str
    balance: Decimal | None = None
    balance_as_of: datetime | None = None
    # What the bank says may be spent now (holds and pending items deducted), when it says.
    available_balance: Decimal | None = None
    available_balance_as_of: datetime | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    version: int = 1

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.provider_account_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceSnapshot:
    id: UUID = field(default_factory=new_id)
    account_id: UUID
    balance: Decimal
    as_of: datetime
    created_at: datetime = field(default_factory=utcnow)
