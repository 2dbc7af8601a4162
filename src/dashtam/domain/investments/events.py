"""Events raised when an import changes an investment account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID

from dashtam.domain.events.base import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldingsUpdated(DomainEvent):
    """One per investment account per import: what the statement changed there."""

    user_id: UUID
    account_id: UUID
    as_of: datetime
    positions: int
    positions_added: int
    investment_transactions_new: int
    investment_transactions_updated: int

    event_type: ClassVar[str] = "HoldingsUpdated"
