"""The pure rules: which posted row is a pending one's posting, which rows are transfers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.matching import (
    is_posting_of,
    match_postings,
    normalised,
    transfer_pairs,
    transfer_partner,
    transfer_refusal,
    within_tip,
)

CHECKING = UUID("01900000-0000-7000-8000-00000000000a")
SAVINGS = UUID("01900000-0000-7000-8000-00000000000b")
CARD = UUID("01900000-0000-7000-8000-00000000000c")
DAY0 = date(2025, 5, 10)
EARLY = datetime(2025, 5, 1, tzinfo=UTC)


def row(
    key: str,
    amount: str,
    day: int = 0,
    *,
    account: UUID = CHECKING,
    status: TransactionStatus = TransactionStatus.POSTED,
    description: str = "Corner Cafe",
    currency: str = "USD",
    **kw: object,
) -> Transaction:
    return Transaction(
        account_id=account,
        provider_transaction_id=key,
        amount=Decimal(amount),
        currency=currency,
        posted_on=DAY0 + timedelta(days=day),
        description=description,
        status=status,
        **kw,  # type: ignore[arg-type]
    )


def pending(key: str, amount: str, day: int = 0, **kw: Any) -> Transaction:
    return row(key, amount, day, status=TransactionStatus.PENDING, **kw)


def keys(pairs: list[tuple[Transaction, Transaction]]) -> list[tuple[str, str]]:
    return [(a.provider_transaction_id, b.provider_transaction_id) for a, b in pairs]


# --- pending then posted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-4, False), (-3, True), (0, True), (5, True), (7, True), (8, False)],
)
def test_the_posted_row_is_dated_from_3_days_before_to_7_after(offset: int, expected: bool) -> None:
    assert is_posting_of(row("x", "-12.00", offset), pending("p", "-12.00")) is expected


@pytest.mark.parametrize(
    ("pending_amount", "posted_amount", "expected"),
    [
        ("-4.00", "-5.00", True),  # the 1.00 floor, exactly
        ("-4.00", "-5.0001", False),
        ("-4.00", "-3.00", True),  # less is tolerated as much as more
        ("-40.00", "-48.00", True),  # 20% of 40, exactly
        ("-40.00", "-48.01", False),
        ("-40.00", "-32.00", True),
        ("-40.00", "-31.99", False),
        ("0.50", "1.50", True),  # a refund: credits alike
        ("-0.50", "0.50", False),  # never across signs
        ("-0.50", "0", False),
        ("0", "0.50", False),
    ],
)
def test_a_tip_is_tolerated_up_to_max_1_or_20_percent(
    pending_amount: str, posted_amount: str, expected: bool
) -> None:
    assert within_tip(Decimal(pending_amount), Decimal(posted_amount)) is expected
    posting = row("x", posted_amount, 1)
    assert is_posting_of(posting, pending("p", pending_amount)) is expected


def test_a_different_amount_needs_the_same_description_once_normalised() -> None:
    stored = pending("p", "-40.00", description="SQ *Corner  Café, #12")
    assert is_posting_of(row("x", "-46.00", 1, description="sq  corner café 12"), stored)
    assert not is_posting_of(row("x", "-46.00", 1, description="Other Cafe"), stored)
    # The exact amount needs no agreement on the text.
    assert is_posting_of(row("x", "-40.00", 1, description="Other Cafe"), stored)
    fullwidth = "\uff23\uff2f\uff32\uff2e\uff25\uff32"  # CORNER in full-width letters
    assert normalised(f"  {fullwidth}\u2014Cafe_42 ") == "corner cafe 42"


def test_nothing_is_matched_across_accounts_or_currencies() -> None:
    stored = pending("p", "-12.00")
    assert not is_posting_of(row("x", "-12.00", 1, account=SAVINGS), stored)
    assert not is_posting_of(row("x", "-12.00", 1, currency="EUR"), stored)
    assert match_postings([stored], [row("x", "-12.00", 1, account=SAVINGS)]) == []


def test_the_closest_date_wins_then_the_exact_amount_then_the_oldest_pending_row() -> None:
    far = pending("far", "-10.00", -3)
    near = pending("near", "-10.00", -1)
    assert keys(match_postings([far, near], [row("x", "-10.00")])) == [("near", "x")]

    tipped = pending("tipped", "-9.00", -1)
    exact = pending("exact", "-10.00", -1)
    assert keys(match_postings([tipped, exact], [row("x", "-10.00")])) == [("exact", "x")]

    newer = pending("newer", "-10.00", -1, created_at=EARLY + timedelta(hours=1))
    older = pending("older", "-10.00", -1, created_at=EARLY)
    for order in ([newer, older], [older, newer]):
        assert keys(match_postings(order, [row("x", "-10.00")])) == [("older", "x")]
    # The same moment: the smaller id.
    twin_a = pending("a", "-10.00", -1, created_at=EARLY, id=UUID(int=2))
    twin_b = pending("b", "-10.00", -1, created_at=EARLY, id=UUID(int=1))
    assert keys(match_postings([twin_a, twin_b], [row("x", "-10.00")])) == [("b", "x")]


def test_a_pending_row_is_consumed_once_and_a_posted_row_consumes_once() -> None:
    coffee = pending("p", "-3.50", 0)
    twice = [row("x1", "-3.50", 1), row("x2", "-3.50", 2)]
    assert keys(match_postings([coffee], twice)) == [("p", "x1")]
    two_pending = [pending("p1", "-3.50", 0), pending("p2", "-3.50", 1)]
    # x1 is closest to p2 (0 days); x2 then takes p1 (2 days), never p2 again.
    pairs = match_postings(two_pending, [row("x1", "-3.50", 1), row("x2", "-3.50", 2)])
    assert sorted(keys(pairs)) == [("p1", "x2"), ("p2", "x1")]
    assert keys(match_postings(two_pending, [row("x", "-3.50", 1)])) == [("p2", "x")]


def test_the_result_does_not_depend_on_the_order_rows_were_read_in() -> None:
    stored = [pending(f"p{n}", "-7.00", n % 3, created_at=EARLY + timedelta(n)) for n in range(5)]
    posted = [row(f"x{n}", "-7.00", n % 4) for n in range(4)]
    expected = sorted(keys(match_postings(stored, posted)))
    assert len(expected) == 4
    assert sorted(keys(match_postings(stored[::-1], posted[::-1]))) == expected


# --- transfers -----------------------------------------------------------------------------


def test_opposite_amounts_in_two_accounts_within_3_days_are_a_transfer() -> None:
    out = row("out", "-500.00", 0)
    into = row("in", "500.00", 3, account=SAVINGS)
    assert keys(transfer_pairs([out], [into])) == [("out", "in")]
    assert keys(transfer_pairs([into], [out])) == [("in", "out")]
    assert transfer_pairs([out], [replace(into, posted_on=DAY0 + timedelta(days=4))]) == []


@pytest.mark.parametrize(
    "other",
    [
        row("same-account", "500.00", 1),
        row("same-sign", "-500.00", 1, account=SAVINGS),
        row("not-equal", "499.99", 1, account=SAVINGS),
        row("other-currency", "500.00", 1, account=SAVINGS, currency="EUR"),
        row("pending", "500.00", 1, account=SAVINGS, status=TransactionStatus.PENDING),
        row("linked", "500.00", 1, account=SAVINGS, transfer_id=UUID(int=9)),
    ],
    ids=lambda r: r.provider_transaction_id,
)
def test_what_is_not_a_transfer(other: Transaction) -> None:
    assert transfer_pairs([row("out", "-500.00")], [other]) == []


def test_a_row_its_owner_marked_is_never_linked() -> None:
    marked = row("out", "-500.00")
    marked = replace(marked, transfer_id=marked.id)
    assert transfer_pairs([marked], [row("in", "500.00", 1, account=SAVINGS)]) == []
    assert transfer_partner(marked) is None
    linked = replace(marked, transfer_id=UUID(int=7))
    assert transfer_partner(linked) == UUID(int=7)


def test_the_closest_candidate_is_linked_and_a_tie_links_none() -> None:
    out = row("out", "-100.00", 0)
    near = row("near", "100.00", 1, account=SAVINGS)
    far = row("far", "100.00", 2, account=CARD)
    assert keys(transfer_pairs([out], [far, near])) == [("out", "near")]
    tie = row("tie", "100.00", -1, account=CARD)
    assert transfer_pairs([out], [near, tie]) == []


def test_a_candidate_closer_to_someone_else_is_not_taken() -> None:
    # ``in`` is 2 days from ``out`` but 0 days from ``other-out``: it belongs to that one.
    out = row("out", "-100.00", 0)
    into = row("in", "100.00", 2, account=SAVINGS)
    other_out = row("other-out", "-100.00", 2, account=CARD)
    assert keys(transfer_pairs([out], [into, other_out])) == []
    assert keys(transfer_pairs([other_out], [into, out])) == [("other-out", "in")]


def test_a_tie_on_the_candidates_side_links_none() -> None:
    into = row("in", "100.00", 0, account=SAVINGS)
    before = row("out-a", "-100.00", -1)
    after = row("out-b", "-100.00", 1, account=CARD)
    assert transfer_pairs([before], [into, after]) == []


def test_two_sources_that_are_each_others_transfer_are_one_pair() -> None:
    out = row("out", "-20.00")
    into = row("in", "20.00", account=SAVINGS)
    assert len(transfer_pairs([out, into], [out, into])) == 1


def test_what_the_owner_may_link_by_hand() -> None:
    out = row("out", "-20.00")
    assert transfer_refusal(out, row("in", "19.00", 9, account=SAVINGS)) is None
    assert transfer_refusal(out, out) is not None
    assert transfer_refusal(out, row("same", "20.00")) is not None
    assert transfer_refusal(out, row("eur", "20.00", account=SAVINGS, currency="EUR"))
    assert transfer_refusal(out, row("sign", "-20.00", account=SAVINGS)) is not None
    assert transfer_refusal(out, row("zero", "0", account=SAVINGS)) is not None
