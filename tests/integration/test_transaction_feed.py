"""The sync feed's adapter and triggers on PostgreSQL and SQLite: every write path is captured,
pages mirror the database exactly, and users see only their own changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from uuid import UUID

import pytest
from sqlalchemy import delete, func, select

from dashtam.bootstrap import Container
from dashtam.core.result import Success
from dashtam.domain.accounts.entities import Account
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.domain.transactions.feed import FeedPosition
from dashtam.domain.transactions.repository import PendingReplacement
from dashtam.infrastructure.persistence.models import (
    TransactionChangeModel,
    TransactionFeedHeadModel,
    TransactionModel,
    UserModel,
)
from tests.integration.feed_support import Mirror, comparable, feed_page, truth
from tests.integration.test_finance_repositories import (
    account_data,
    new_owner,
    tx,
    uow,
    upsert,
    upsert_account,
)


@pytest.fixture
async def two_accounts(container: Container) -> tuple[Account, Account]:
    user_id, connection_id = await new_owner(container, "feed@example.com")
    checking, _ = await upsert_account(container, account_data(user_id, connection_id, "0001"))
    savings, _ = await upsert_account(container, account_data(user_id, connection_id, "0002"))
    return checking, savings


async def assert_mirrors(container: Container, mirror: Mirror, user_id: UUID, limit: int) -> None:
    await mirror.catch_up(container, user_id, limit)
    assert comparable(mirror.rows) == comparable(await truth(container, user_id))


async def test_no_cursor_walks_current_transactions_then_follows_changes(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, savings = two_accounts
    await upsert(container, checking.id, *(tx(f"c{i}", day=i + 1) for i in range(5)))
    await upsert(container, savings.id, tx("s1"))
    first = await feed_page(container, checking.user_id, None, 4)
    assert (len(first.added), first.modified, first.removed) == (4, [], [])
    assert first.has_more
    assert first.next.walk is not None
    second = await feed_page(container, checking.user_id, first.next, 4)
    assert (len(second.added), second.has_more) == (2, False)
    assert second.next == FeedPosition(seq=6)  # the walk is over: follow from its start
    walked = {t.id for t in (*first.added, *second.added)}
    assert walked == set(await truth(container, checking.user_id))

    assert await upsert(container, checking.id, tx("c0", "-9.00", day=1), tx("new")) == (1, 1, 0)
    changed = await feed_page(container, checking.user_id, second.next, 10)
    assert [t.provider_transaction_id for t in changed.added] == ["new"]
    assert [(t.provider_transaction_id, str(t.amount)) for t in changed.modified] == [
        ("c0", "-9.0000")
    ]
    assert (changed.has_more, changed.next) == (False, FeedPosition(seq=8))
    idle = await feed_page(container, checking.user_id, changed.next, 10)
    assert (idle.added, idle.modified, idle.removed, idle.next) == ([], [], [], changed.next)


async def test_a_change_during_the_walk_is_sent_again_afterwards(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, _ = two_accounts
    await upsert(container, checking.id, *(tx(f"c{i}", day=i + 1) for i in range(4)))
    mirror = Mirror()
    mirror.apply(await feed_page(container, checking.user_id, None, 2))
    # Behind the walk (already sent), ahead of it, and new: all must reach the client.
    await upsert(
        container,
        checking.id,
        tx("c0", "-5.00", day=1),
        tx("c3", "-6.00", day=4),
        tx("late", day=2),
    )
    await assert_mirrors(container, mirror, checking.user_id, 2)


async def test_every_write_path_is_captured(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, savings = two_accounts
    user_id = checking.user_id
    mirror = Mirror()
    pending = tx("p1", "-20.00", 3, status=TransactionStatus.PENDING)
    await upsert(container, checking.id, pending, tx("out", "-50.00", 5))
    await upsert(container, savings.id, tx("in", "50.00", 5), tx("keep", "1.00"))
    await assert_mirrors(container, mirror, user_id, 3)
    rows = {t.provider_transaction_id: t for t in (await truth(container, user_id)).values()}

    async with uow(container) as work:  # pending -> posted in place, then a transfer link
        posted = replace(pending, provider_transaction_id="P1", status=TransactionStatus.POSTED)
        replacement = PendingReplacement(row_id=rows["p1"].id, posted=posted)
        assert await work.transactions.absorb_pending([replacement]) == Success(1)
        assert await work.transactions.link_transfers([(rows["out"].id, rows["in"].id)]) == (
            Success(1)
        )
        assert isinstance(await work.commit(), Success)
    await assert_mirrors(container, mirror, user_id, 2)
    assert mirror.rows[rows["p1"].id].status is TransactionStatus.POSTED

    async with uow(container) as work:  # the owner's "not a transfer", and a direct delete
        links = {rows["out"].id: rows["out"].id, rows["in"].id: rows["in"].id}
        assert await work.transactions.set_transfer_ids(links) == Success(None)
        await work.session.execute(
            delete(TransactionModel).where(TransactionModel.id == rows["keep"].id)
        )
        assert isinstance(await work.commit(), Success)
    await assert_mirrors(container, mirror, user_id, 2)
    assert rows["keep"].id not in mirror.rows

    async with uow(container) as work:  # relink, then delete one side's account
        assert await work.transactions.set_transfer_ids(
            {rows["out"].id: rows["in"].id, rows["in"].id: rows["out"].id}
        ) == Success(None)
        assert isinstance(await work.commit(), Success)
    async with uow(container) as work:
        assert await work.accounts.delete(checking.id) == Success(None)
        assert isinstance(await work.commit(), Success)
    await assert_mirrors(container, mirror, user_id, 1)
    assert mirror.rows[rows["in"].id].transfer_id is None  # ON DELETE SET NULL reached it


async def test_purging_a_connection_removes_its_transactions(container: Container) -> None:
    user_id, connection_id = await new_owner(container, "purge@example.com")
    account, _ = await upsert_account(container, account_data(user_id, connection_id))
    await upsert(container, account.id, tx("a"), tx("b"))
    mirror = Mirror()
    await assert_mirrors(container, mirror, user_id, 5)
    async with uow(container) as work:
        assert await work.accounts.delete_for_connection(connection_id) == Success(1)
        assert isinstance(await work.commit(), Success)
    page = await feed_page(container, user_id, mirror.position, 10)
    assert sorted(page.removed) == sorted(mirror.rows)
    assert (page.added, page.modified) == ([], [])


async def test_added_then_changed_or_removed_since_the_cursor(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, _ = two_accounts
    start = await feed_page(container, checking.user_id, None, 10)
    await upsert(container, checking.id, tx("a", "-1.00"), tx("gone"))
    await upsert(container, checking.id, tx("a", "-2.00"))
    async with uow(container) as work:
        await work.session.execute(
            delete(TransactionModel).where(TransactionModel.provider_transaction_id == "gone")
        )
        assert isinstance(await work.commit(), Success)
    page = await feed_page(container, checking.user_id, start.next, 10)
    assert [(t.provider_transaction_id, str(t.amount)) for t in page.added] == [("a", "-2.0000")]
    assert page.modified == []
    assert len(page.removed) == 1  # "gone": a client ignores it


async def test_the_walk_goes_through_each_account_in_turn_and_never_another_users(
    container: Container,
) -> None:
    owner, connection = await new_owner(container, "walker@example.com")
    other, other_connection = await new_owner(container, "neighbour@example.com")
    mine = []
    for number in ("1", "2", "3"):
        # Another user's account between each of mine, in the order the walk goes (ids).
        theirs, _ = await upsert_account(container, account_data(other, other_connection, number))
        await upsert(container, theirs.id, *(tx(f"theirs-{number}-{i}") for i in range(4)))
        account, _ = await upsert_account(container, account_data(owner, connection, number))
        await upsert(container, account.id, *(tx(f"{number}-{i}", day=1 + i % 3) for i in range(7)))
        mine.append(account)
    mirror = Mirror()
    await assert_mirrors(container, mirror, owner, 3)
    assert mirror.pages == 7  # 21 rows, 3 a page: the last page says the walk is over
    assert all(t.account_id in {a.id for a in mine} for t in mirror.rows.values())


async def test_users_see_only_their_own_changes_each_numbered_from_one(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, _ = two_accounts
    other_id, other_connection = await new_owner(container, "other@example.com")
    other_account, _ = await upsert_account(container, account_data(other_id, other_connection))
    await upsert(container, checking.id, tx("mine"))
    await upsert(container, other_account.id, tx("theirs"), tx("theirs too"))
    mine = await feed_page(container, checking.user_id, FeedPosition(seq=0), 10)
    theirs = await feed_page(container, other_id, FeedPosition(seq=0), 10)
    assert [t.provider_transaction_id for t in mine.added] == ["mine"]
    assert sorted(t.provider_transaction_id for t in theirs.added) == ["theirs", "theirs too"]
    assert (mine.next.seq, theirs.next.seq) == (1, 2)


async def test_deleting_a_user_forgets_their_feed(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, savings = two_accounts
    await upsert(container, checking.id, tx("a"))
    await upsert(container, savings.id, tx("b"))
    async with container.database.transaction() as session:
        await session.execute(delete(UserModel).where(UserModel.id == checking.user_id))
    async with container.database.get_session() as session:
        changes = await session.scalar(select(func.count()).select_from(TransactionChangeModel))
        heads = await session.scalar(select(func.count()).select_from(TransactionFeedHeadModel))
    assert (changes, heads) == (0, 0)


async def test_an_import_records_one_change_per_row(
    container: Container, two_accounts: tuple[Account, Account]
) -> None:
    checking, _ = two_accounts
    await upsert(container, checking.id, *(tx(f"r{i}", day=1 + i % 28) for i in range(300)))
    page = await feed_page(container, checking.user_id, FeedPosition(seq=0), 500)
    assert (len(page.added), page.next.seq, page.has_more) == (300, 300, False)
    assert date(2026, 11, 28) in {t.posted_on for t in page.added}
