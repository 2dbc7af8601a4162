"""Port: accounts and their balance history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.accounts.entities import Account, AccountType, BalanceSnapshot


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountUpsert:
    """What an import knows about an account; ``name`` only names a new account."""

    user_id: UUID
    connection_id: UUID
    provider_account_id: str
    name: str
    account_type: AccountType
    currency: str
    balance: Decimal | None
    balance_as_of: datetime | None
    available_balance: Decimal | None = None
    available_balance_as_of: datetime | None = None


class AccountRepository(Protocol):
    async def upsert(self, data: AccountUpsert) -> Result[tuple[Account, bool], Error]:
        """Create or update by (connection, provider account id); True when created."""
        ...

    async def get(self, account_id: UUID) -> Result[Account | None, Error]: ...

    async def get_owned(self, user_id: UUID, account_id: UUID) -> Result[Account | None, Error]:
        """The user's account; None when it is missing or someone else's (never which)."""
        ...

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[Account], Error]: ...

    async def delete(self, account_id: UUID) -> Result[None, Error]: ...

    async def delete_for_connection(self, connection_id: UUID) -> Result[int, Error]: ...

    async def add_snapshot(self, snapshot: BalanceSnapshot) -> Result[bool, Error]:
        """Record a balance; False when one for that time already exists (idempotent)."""
        ...

    async def balance_history(
        self, account_id: UUID
    ) -> Result[Sequence[BalanceSnapshot], Error]: ...
