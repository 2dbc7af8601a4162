"""Ports: securities, and each investment account's positions, trades and cash side."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.imports.investments import (
    ParsedInvestmentBalance,
    ParsedInvestmentTransaction,
    ParsedPosition,
    ParsedSecurity,
)
from dashtam.domain.investments.entities import (
    Holding,
    InvestmentBalance,
    InvestmentKind,
    InvestmentTransaction,
    Security,
    SecurityId,
    ValuePoint,
)
from dashtam.domain.transactions.repository import UpsertCounts


class SecurityRepository(Protocol):
    async def upsert(
        self, securities: Sequence[ParsedSecurity], *, as_of: datetime | None
    ) -> Result[Mapping[SecurityId, UUID], Error]:
        """Create or update by (unique id type, unique id); the ids of all of them.

        A name, ticker or kind stated by a file at least as new as the stored one (``as_of``)
        wins. ``as_of=None`` only creates what is missing and never changes a stored security:
        the import uses it for securities a file references without describing them (no
        ``SECLIST`` entry), passing their identifier as the name and ``other`` as the kind, so
        the first file that describes them names them.
        """
        ...

    async def get(self, security_id: UUID) -> Result[Security | None, Error]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class InvestmentTransactionQuery:
    account_id: UUID
    security_id: UUID | None = None
    kind: InvestmentKind | None = None
    trade_from: date | None = None
    trade_to: date | None = None


@dataclass(frozen=True, slots=True)
class InvestmentTransactionCursor:
    """Keyset position: the (trade_date, id) of the last item of the previous page."""

    trade_date: date
    id: UUID


class HoldingRepository(Protocol):
    async def add_snapshot(
        self,
        account_id: UUID,
        currency: str,
        as_of: datetime,
        positions: Sequence[tuple[UUID, ParsedPosition]],
    ) -> Result[int, Error]:
        """Record the account's positions as of ``as_of`` (security ids resolved); the number
        added. Idempotent: a position already stored for (account, security, as_of) stays."""
        ...

    async def at(
        self, account_id: UUID, as_of: datetime | None
    ) -> Result[Sequence[Holding], Error]:
        """The positions of the latest snapshot at or before ``as_of`` (None: the latest)."""
        ...

    async def latest_for_user(self, user_id: UUID) -> Result[Sequence[Holding], Error]:
        """Every account's latest snapshot, for all of the user's accounts."""
        ...

    async def add_balance(
        self, account_id: UUID, as_of: datetime, balance: ParsedInvestmentBalance
    ) -> Result[bool, Error]:
        """The cash side as of ``as_of``; False when one is already stored for that time."""
        ...

    async def latest_balance(self, account_id: UUID) -> Result[InvestmentBalance | None, Error]: ...

    async def value_history(self, account_id: UUID) -> Result[Sequence[ValuePoint], Error]:
        """Cash plus the market value of the positions, per statement, oldest first."""
        ...


class InvestmentTransactionRepository(Protocol):
    async def upsert_batch(
        self,
        account_id: UUID,
        currency: str,
        batch: Sequence[tuple[UUID | None, ParsedInvestmentTransaction]],
        *,
        statement_as_of: datetime | None = None,
    ) -> Result[UpsertCounts, Error]:
        """Like bank transactions: unique per (account, provider id), a newer statement's
        version is never overwritten by an older one (``outdated``)."""
        ...

    async def search(
        self,
        query: InvestmentTransactionQuery,
        *,
        after: InvestmentTransactionCursor | None,
        limit: int,
    ) -> Result[Sequence[InvestmentTransaction], Error]:
        """Newest first (trade_date, then id, descending)."""
        ...

    async def of_securities(
        self, account_id: UUID, security_ids: Collection[UUID], *, through: date
    ) -> Result[Sequence[InvestmentTransaction], Error]:
        """The account's trades of these securities dated up to ``through``, oldest first
        (trade_date, then id): what a position's cost is replayed from."""
        ...
