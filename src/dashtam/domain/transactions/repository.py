"""Port: transactions, written in batches and read with filters and a cursor."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction, TransactionStatus


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


class TransferFilter(StrEnum):
    """Transfers between the owner's own accounts: listed with the rest, left out, or alone."""

    INCLUDE = "include"
    EXCLUDE = "exclude"
    ONLY = "only"


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingReplacement:
    """A stored pending row (``row_id``) that becomes the posted transaction ``posted``."""

    row_id: UUID
    posted: ParsedTransaction
    statement_as_of: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionQuery:
    user_id: UUID
    account_id: UUID | None = None
    posted_from: date | None = None
    posted_to: date | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    text: str | None = None
    # A row its owner marked "not a transfer" counts as not linked.
    transfers: TransferFilter = TransferFilter.INCLUDE


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
        may_be_stored: Collection[str] | None = None,
        written: set[str] | None = None,
    ) -> Result[UpsertCounts, Error]:
        """Insert new, update changed, count unchanged; safe against concurrent imports.

        A stored row written by a statement newer than ``statement_as_of`` is not changed
        (counted ``outdated``): the bank's later correction stays. Unknown dates (``None``,
        e.g. most CSV exports) always apply. ``may_be_stored``, when given, are the only ids
        of the batch the account can hold already (the caller created the account in this
        transaction and wrote just those): the others need not be looked up. ``written``,
        when given, receives the provider ids of the rows inserted or updated (a row another
        import inserted meanwhile may be among them), so that what follows the writes looks
        at those rows only.
        """
        ...

    async def search(
        self, query: TransactionQuery, *, after: TransactionCursor | None, limit: int
    ) -> Result[Sequence[Transaction], Error]:
        """Newest first (posted_on, then id, descending)."""
        ...

    async def absorb_pending(
        self, replacements: Sequence[PendingReplacement]
    ) -> Result[int, Error]:
        """Each pending row becomes its posted transaction in place: provider id, amount,
        date, texts, status and statement date change; the row id and any transfer link stay.

        The caller makes sure the posted ids are new to the account. Returns the rows changed.
        """
        ...

    async def remove_pending(
        self, account_id: UUID, *, keep: Collection[str]
    ) -> Result[int, Error]:
        """Delete the account's pending rows whose provider id is not in ``keep`` (a live
        source no longer lists them); returns how many went."""
        ...

    async def by_provider_ids(
        self, account_id: UUID, provider_ids: Collection[str]
    ) -> Result[Sequence[Transaction], Error]:
        """The account's rows with these provider ids (the caller keeps the list short)."""
        ...

    async def in_window(
        self, account_id: UUID, *, status: TransactionStatus, start: date, end: date
    ) -> Result[Sequence[Transaction], Error]:
        """The account's rows of ``status`` posted from ``start`` to ``end`` (inclusive)."""
        ...

    async def transfer_candidates(
        self, user_id: UUID, *, amounts: Collection[Decimal], start: date, end: date
    ) -> Result[Sequence[Transaction], Error]:
        """The user's posted rows, not linked and not marked, with one of ``amounts``, posted
        from ``start`` to ``end``: bounded by the account and date index, never everything."""
        ...

    async def link_transfers(self, pairs: Sequence[tuple[UUID, UUID]]) -> Result[int, Error]:
        """Link each pair both ways, only where both sides are still unlinked.

        All or nothing: if another transaction linked a side meanwhile, ``ConflictError``
        (``transfer_conflict``) and the caller's transaction is to be rolled back.
        """
        ...

    async def set_transfer_ids(self, links: Mapping[UUID, UUID | None]) -> Result[None, Error]:
        """Write ``transfer_id`` of each row as given (the owner's own decisions)."""
        ...

    async def get_owned(
        self, user_id: UUID, transaction_id: UUID
    ) -> Result[Transaction | None, Error]:
        """The row if it is in one of the user's accounts (another user's: ``None``)."""
        ...
