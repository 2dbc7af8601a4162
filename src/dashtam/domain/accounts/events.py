"""Events raised by financial accounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from dashtam.domain.events.base import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountDeleted(DomainEvent):
    user_id: UUID
    account_id: UUID

    event_type: ClassVar[str] = "AccountDeleted"
