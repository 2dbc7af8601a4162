"""Which rows are one transaction seen twice, and which are the two sides of a transfer.

Pure functions over ``Transaction`` values; the application loads the rows and writes the
decisions (docs/importing.md, "Pending, posted and transfers").

Pending then posted: a bank shows a purchase pending, then posted under another id, often a
few days later and sometimes for a slightly different amount (a tip, an exchange rate). A
posted row is the posting of a pending one when both are in the same account and currency,
it is dated from 3 days before to 7 days after the pending one, and its amount is the same,
or -- when the descriptions agree once normalised -- of the same sign and within
``max(1.00, 20% of the pending amount)``.

Transfers: two posted rows of one user in different accounts, in the same currency, of
opposite amounts, dated at most 3 days apart, neither linked yet. A row is linked only to its
single closest candidate, and only if that candidate's single closest candidate is the row
itself; a tie at the closest distance, on either side, links nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from dashtam.domain.transactions.entities import Transaction, TransactionStatus

POSTED_AFTER_PENDING = (timedelta(days=-3), timedelta(days=7))
TIP_FLOOR = Decimal("1.00")
TIP_SHARE = Decimal("0.20")
TRANSFER_DAYS = timedelta(days=3)

_NOT_WORD = re.compile(r"[\W_]+")


def normalised(description: str) -> str:
    """Case, accents' compatibility forms, punctuation and spacing do not tell rows apart."""
    folded = unicodedata.normalize("NFKC", description).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def within_tip(pending: Decimal, posted: Decimal) -> bool:
    """Same sign, and the posted amount at most ``max(1.00, 20%)`` away from the pending one."""
    if (pending > 0) != (posted > 0) or pending == 0 or posted == 0:
        return False
    return abs(posted - pending) <= max(TIP_FLOOR, abs(pending) * TIP_SHARE)


def is_posting_of(posted: Transaction, pending: Transaction) -> bool:
    """Could ``posted`` be the bank's posted form of ``pending`` (statuses not checked)?"""
    earliest, latest = POSTED_AFTER_PENDING
    if posted.account_id != pending.account_id or posted.currency != pending.currency:
        return False
    if not earliest <= posted.posted_on - pending.posted_on <= latest:
        return False
    if posted.amount == pending.amount:
        return True
    same_text = normalised(posted.description) == normalised(pending.description)
    return same_text and within_tip(pending.amount, posted.amount)


def match_postings(
    pending: Sequence[Transaction], posted: Sequence[Transaction]
) -> list[tuple[Transaction, Transaction]]:
    """(pending, posted) pairs, each row in at most one pair.

    Every qualifying pair is ranked -- closest date, then the exact amount before a tolerated
    one, then the oldest pending row (created_at, id), then the posted row's date and id -- and
    taken in that order while both of its rows are still free, so the result depends on the
    rows, not on the order they were read in.
    """
    ranked = sorted(
        (
            (_posting_rank(p, q), index_p, index_q)
            for index_p, p in enumerate(pending)
            for index_q, q in enumerate(posted)
            if is_posting_of(q, p)
        ),
    )
    used_pending: set[int] = set()
    used_posted: set[int] = set()
    pairs: list[tuple[Transaction, Transaction]] = []
    for _, index_p, index_q in ranked:
        if index_p in used_pending or index_q in used_posted:
            continue
        used_pending.add(index_p)
        used_posted.add(index_q)
        pairs.append((pending[index_p], posted[index_q]))
    return pairs


def _posting_rank(pending: Transaction, posted: Transaction) -> tuple[object, ...]:
    return (
        abs((posted.posted_on - pending.posted_on).days),
        posted.amount != pending.amount,
        pending.created_at,
        pending.id,
        posted.posted_on,
        posted.provider_transaction_id,
    )


def is_linkable(transaction: Transaction) -> bool:
    """Posted, not zero, and not linked (nor marked "not a transfer" by its owner)."""
    return (
        transaction.status is TransactionStatus.POSTED
        and transaction.transfer_id is None
        and transaction.amount != 0
    )


def could_be_transfer(one: Transaction, other: Transaction) -> bool:
    return (
        one.account_id != other.account_id
        and one.currency == other.currency
        and one.amount == -other.amount
        and abs(one.posted_on - other.posted_on) <= TRANSFER_DAYS
        and is_linkable(one)
        and is_linkable(other)
    )


def transfer_pairs(
    sources: Iterable[Transaction], pool: Iterable[Transaction]
) -> list[tuple[Transaction, Transaction]]:
    """The transfers to link between ``sources`` and any row of ``sources`` or ``pool``.

    Every row given is one user's. ``pool`` must hold every linkable row of theirs whose
    amount is plus or minus a source's, dated up to 6 days from it: a candidate's own other
    candidates are then known, and a tie on its side is seen too.
    """
    rows = {row.id: row for row in (*pool, *sources)}
    everyone = sorted(rows.values(), key=lambda row: row.id)
    by_amount: dict[Decimal, list[Transaction]] = {}
    for row in everyone:
        by_amount.setdefault(row.amount, []).append(row)

    def closest(row: Transaction) -> Transaction | None:
        candidates = [c for c in by_amount.get(-row.amount, []) if could_be_transfer(row, c)]
        if not candidates:
            return None
        distances = sorted(abs((c.posted_on - row.posted_on).days) for c in candidates)
        if len(distances) > 1 and distances[0] == distances[1]:
            return None  # ambiguous: which one is the other side is not ours to guess
        return min(candidates, key=lambda c: abs((c.posted_on - row.posted_on).days))

    pairs: dict[frozenset[UUID], tuple[Transaction, Transaction]] = {}
    for source in sorted({row.id: row for row in sources}.values(), key=lambda r: r.id):
        other = closest(source)
        if other is not None and (back := closest(other)) is not None and back.id == source.id:
            pairs.setdefault(frozenset((source.id, other.id)), (source, other))
    return list(pairs.values())


def transfer_partner(transaction: Transaction) -> UUID | None:
    """The other side of the row's transfer; ``None`` also for a row its owner marked as not
    a transfer (stored as ``transfer_id`` = its own id, so that imports leave it alone)."""
    if transfer_refused(transaction):
        return None
    return transaction.transfer_id


def transfer_refused(transaction: Transaction) -> bool:
    return transaction.transfer_id == transaction.id


def transfer_refusal(one: Transaction, other: Transaction) -> str | None:
    """Why the owner cannot link these two as a transfer (``None``: they can)."""
    if one.id == other.id:
        return "a transaction cannot be a transfer to itself"
    if one.account_id == other.account_id:
        return "both transactions are in the same account"
    if one.currency != other.currency:
        return f"the transactions are in {one.currency} and {other.currency}"
    if one.amount == 0 or other.amount == 0 or (one.amount > 0) == (other.amount > 0):
        return "a transfer takes money out of one account and into the other"
    return None


def window(days: Iterable[date], before: timedelta, after: timedelta) -> tuple[date, date]:
    """From ``before`` the earliest day to ``after`` the latest (``before`` is negative)."""
    ordered = sorted(days)
    return ordered[0] + before, ordered[-1] + after
