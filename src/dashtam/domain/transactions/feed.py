"""Port: the transactions sync feed, pages of what changed in a user's transactions since a
position (docs/feed.md).

A client starts with no position: it first walks the user's current transactions (all
``added``), then follows the change log from where the walk began. Applying pages in order
(``added`` and ``modified`` as upserts, ``removed`` as deletes that ignore unknown ids) keeps
an exact mirror.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.transactions.entities import Transaction


@dataclass(frozen=True, slots=True)
class WalkKey:
    """Where the first walk over the current transactions stands (the last one sent)."""

    account_id: UUID
    posted_on: date
    id: UUID


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Every change of the user numbered up to ``seq`` is applied; while ``walk`` is set, the
    first walk has sent the transactions up to it and goes on from there."""

    seq: int
    walk: WalkKey | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedPage:
    """``added`` and ``modified`` carry each transaction's state as the page was read."""

    added: Sequence[Transaction]
    modified: Sequence[Transaction]
    removed: Sequence[UUID]
    next: FeedPosition
    has_more: bool


class TransactionFeed(Protocol):
    async def page(
        self, user_id: UUID, since: FeedPosition | None, *, limit: int
    ) -> Result[FeedPage, Error]:
        """Up to ``limit`` entries after ``since`` (None: from the beginning)."""
        ...
