"""A page of a user's transactions (the list, the sync feed's walk) reads about one page of
rows per account on PostgreSQL, however long their history and however many other users: the
plan is read back with EXPLAIN ANALYZE, not timed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text as sql

from dashtam.bootstrap import Container
from dashtam.domain.accounts.entities import Account
from dashtam.domain.transactions.feed import WalkKey
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from dashtam.infrastructure.persistence.repositories.transaction_feed import walk_statement
from dashtam.infrastructure.persistence.repositories.transaction_search import search_statement
from tests.integration.test_finance_repositories import (
    account_data,
    new_owner,
    search,
    tx,
    upsert,
    upsert_account,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])  # SQLite has no LATERAL

ACCOUNTS = 3
ROWS_PER_ACCOUNT = 400
PAGE = 10
FIRST_DAY = date(2020, 1, 1)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def _transactions_read(
    container: Container,
    query: TransactionQuery,
    after: TransactionCursor | None = None,
) -> int:
    """How many rows of ``transactions`` the search's plan touched, kept or filtered out."""
    statement, params = search_statement(query, after=after, limit=PAGE, dialect="postgresql")
    return await _rows_read(container, statement, params)


async def _rows_read(container: Container, statement: Any, params: dict[str, Any]) -> int:
    async with container.database.get_session() as session:
        connection = await session.connection()
        compiled = statement.compile(dialect=connection.dialect)
        values = compiled.construct_params(params)
        raw = await connection.get_raw_connection()
        found = await raw.driver_connection.fetchval(  # type: ignore[union-attr]
            "EXPLAIN (ANALYZE, FORMAT JSON) " + compiled.string,
            *(values[name] for name in compiled.positiontup or ()),
        )
    # The engine's connections decode json themselves (a type codec); a bare one would not.
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    return sum(
        (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
        for node in _nodes(plan)
        if node.get("Relation Name") == "transactions"
    )


async def _histories(container: Container, email: str) -> list[Account]:
    """A user with ACCOUNTS accounts of ROWS_PER_ACCOUNT transactions each, analyzed."""
    user, connection = await new_owner(container, email)
    accounts = []
    for number in range(ACCOUNTS):
        account, _ = await upsert_account(container, account_data(user, connection, f"{number}"))
        accounts.append(account)
        history = [
            tx(f"{number}-{n}", posted_on=FIRST_DAY + timedelta(days=n % 700))
            for n in range(ROWS_PER_ACCOUNT)
        ]
        await upsert(container, account.id, *history)
    async with container.database.get_session() as session:
        await session.execute(sql("ANALYZE transactions"))
        await session.execute(sql("ANALYZE accounts"))
    return accounts


async def test_a_page_reads_a_page_per_account_not_the_whole_history(
    container: Container,
) -> None:
    accounts = await _histories(container, "owner@example.com")
    user = accounts[0].user_id

    everyone = TransactionQuery(user_id=user)
    assert await _transactions_read(container, everyone) <= PAGE * ACCOUNTS
    middle = (await search(container, everyone, limit=ROWS_PER_ACCOUNT))[-1]
    cursor = TransactionCursor(middle.posted_on, middle.id)
    assert await _transactions_read(container, everyone, cursor) <= PAGE * ACCOUNTS
    one = TransactionQuery(user_id=user, account_id=accounts[1].id)
    assert await _transactions_read(container, one) <= PAGE
    recent = TransactionQuery(user_id=user, posted_from=FIRST_DAY + timedelta(days=600))
    assert await _transactions_read(container, recent) <= PAGE * ACCOUNTS


async def test_a_feed_walk_page_reads_a_page_per_account_not_other_users_rows(
    container: Container,
) -> None:
    # The other user's accounts come first in the walk's (account_id, ...) order: ids grow.
    await _histories(container, "neighbour@example.com")
    mine = await _histories(container, "walker@example.com")
    user = mine[0].user_id

    async def read(after: WalkKey | None) -> int:
        statement = walk_statement(user, after, PAGE, dialect="postgresql")
        return await _rows_read(container, statement, {})

    assert await read(None) <= PAGE * ACCOUNTS
    middle = (await search(container, TransactionQuery(user_id=user, account_id=mine[1].id)))[5]
    assert await read(WalkKey(mine[1].id, middle.posted_on, middle.id)) <= PAGE * ACCOUNTS
