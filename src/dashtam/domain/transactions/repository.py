"""Port: transactions, written in batches and read with filters and a cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.new + other.new, self.updated + other.updated, self.unchanged + other.unchanged
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionQuery:
    user_id: UUID
    account_id: UUID | None = None
    posted_from: date | None = None
    posted_to: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionCursor:
    """Keyset position: the (posted_on, id) of the last item of the previous page."""

    posted_on: date
    id: UUID


class TransactionRepository(Protocol):
    async def upsert_batch(
        self, account_id: UUID, currency: str, batch: Sequence[ParsedTransaction]
    ) -> Result[UpsertCounts, Error]:
        """Insert new, update changed, count unchanged; safe against concurrent imports."""
        ...

    async def search(
        self, query: TransactionQuery, *, after: TransactionCursor | None, limit: int
    ) -> Result[Sequence[Transaction], Error]:
        """Newest first (posted_on, then id, descending)."""
        ...
