"""A page of a user's transactions reads about one page of rows per account on PostgreSQL,
however long the history: the plan is read back with EXPLAIN ANALYZE, not timed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text as sql

from dashtam.bootstrap import Container
from dashtam.core.config import Settings
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from dashtam.infrastructure.persistence.repositories.transaction_search import search_statement
from tests.integration.test_finance_repositories import (
    FastContainer,
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


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    built = FastContainer(settings)
    try:
        yield built
    finally:
        await built.aclose()


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


async def test_a_page_reads_a_page_per_account_not_the_whole_history(
    container: Container,
) -> None:
    user, connection = await new_owner(container, "owner@example.com")
    first_day = date(2020, 1, 1)
    accounts = []
    for number in range(ACCOUNTS):
        account, _ = await upsert_account(container, account_data(user, connection, f"{number}"))
        accounts.append(account)
        history = [
            tx(f"{number}-{n}", posted_on=first_day + timedelta(days=n % 700))
            for n in range(ROWS_PER_ACCOUNT)
        ]
        await upsert(container, account.id, *history)
    async with container.database.get_session() as session:
        await session.execute(sql("ANALYZE transactions"))
        await session.execute(sql("ANALYZE accounts"))

    everyone = TransactionQuery(user_id=user)
    assert await _transactions_read(container, everyone) <= PAGE * ACCOUNTS
    middle = (await search(container, everyone, limit=ROWS_PER_ACCOUNT))[-1]
    cursor = TransactionCursor(middle.posted_on, middle.id)
    assert await _transactions_read(container, everyone, cursor) <= PAGE * ACCOUNTS
    one = TransactionQuery(user_id=user, account_id=accounts[1].id)
    assert await _transactions_read(container, one) <= PAGE
    recent = TransactionQuery(user_id=user, posted_from=first_day + timedelta(days=600))
    assert await _transactions_read(container, recent) <= PAGE * ACCOUNTS
