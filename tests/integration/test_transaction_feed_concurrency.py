"""The sync feed under concurrent writers on PostgreSQL (SQLite has one writer at a time).

Numbers are handed out at commit: a writer that started first but commits last is numbered
last, so a reader that passed the other writer's changes still gets it; and writers that
wait for each other's rows do not deadlock on the feed's lock.
"""

from __future__ import annotations

import asyncio

import pytest

from dashtam.bootstrap import Container
from dashtam.core.result import Success
from dashtam.domain.accounts.entities import Account
from tests.integration.feed_support import Mirror, comparable, truth
from tests.integration.test_finance_repositories import (
    account_data,
    new_owner,
    tx,
    uow,
    upsert,
    upsert_account,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture
async def accounts(container: Container) -> tuple[Account, Account]:
    user_id, connection_id = await new_owner(container, "busy@example.com")
    one, _ = await upsert_account(container, account_data(user_id, connection_id, "0001"))
    two, _ = await upsert_account(container, account_data(user_id, connection_id, "0002"))
    return one, two


async def test_a_writer_that_commits_last_is_read_last(
    container: Container, accounts: tuple[Account, Account]
) -> None:
    one, two = accounts
    mirror = Mirror()
    await mirror.catch_up(container, one.user_id)
    async with uow(container) as first:
        # The first writer changes rows before the second starts, and commits after it.
        written = await first.transactions.upsert_batch(one.id, "USD", [tx("early")])
        assert isinstance(written, Success)
        async with uow(container) as second:
            written = await second.transactions.upsert_batch(two.id, "USD", [tx("late")])
            assert isinstance(written, Success)
            assert isinstance(await second.commit(), Success)
        await mirror.catch_up(container, one.user_id, limit=1)  # a reader in between
        assert [t.provider_transaction_id for t in mirror.rows.values()] == ["late"]
        assert isinstance(await first.commit(), Success)
    await mirror.catch_up(container, one.user_id, limit=1)
    assert comparable(mirror.rows) == comparable(await truth(container, one.user_id))


async def test_writers_waiting_on_each_others_rows_do_not_deadlock(
    container: Container, accounts: tuple[Account, Account]
) -> None:
    one, two = accounts
    await upsert(container, one.id, tx("shared", "-1.00"))
    mirror = Mirror()
    await mirror.catch_up(container, one.user_id)
    async with uow(container) as holder, uow(container) as waiter:
        # waiter changes a row first (a lock taken while changing rows would be its now),
        # holder then locks "shared", and waiter wants "shared" too.
        assert isinstance(await waiter.transactions.upsert_batch(two.id, "USD", [tx("w")]), Success)
        changed = await holder.transactions.upsert_batch(one.id, "USD", [tx("shared", "-2.00")])
        assert isinstance(changed, Success)
        blocked = asyncio.create_task(
            waiter.transactions.upsert_batch(one.id, "USD", [tx("shared", "-3.00")])
        )
        await asyncio.sleep(0.2)  # let it reach the row lock; correctness does not depend on it
        assert isinstance(await holder.commit(), Success)
        assert isinstance(await blocked, Success)
        assert isinstance(await waiter.commit(), Success)
    await mirror.catch_up(container, one.user_id, limit=2)
    assert comparable(mirror.rows) == comparable(await truth(container, one.user_id))
    assert {str(t.amount) for t in mirror.rows.values()} == {"-3.0000", "-1.0000"}
