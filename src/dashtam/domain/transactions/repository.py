"""Port: transactions, written in batches and read with filters and a cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """``outdated``: rows a newer statement wrote already, left as they are."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    outdated: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.new + other.new,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.outdated + other.outdated,
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
        self,
        account_id: UUID,
        currency: str,
        batch: Sequence[ParsedTransaction],
        *,
        statement_as_of: datetime | None = None,
    ) -> Result[UpsertCounts, Error]:
        """Insert new, update changed, count unchanged; safe against concurrent imports.

        A stored row written by a statement newer than ``statement_as_of`` is not changed
        (counted ``outdated``): the bank's later correction stays. Unknown dates (``None``,
        e.g. most CSV exports) always apply.
        """
        ...

    async def search(
        self, query: TransactionQuery, *, after: TransactionCursor | None, limit: int
    ) -> Result[Sequence[Transaction], Error]:
        """Newest first (posted_on, then id, descending)."""
        ...
