"""Finance repositories on PostgreSQL and SQLite: exact amounts, upserts, filters and the cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text as sql
from sqlalchemy.dialects import postgresql, sqlite

from dashtam.application.finance.commands import CreateConnection
from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.result import Success
from dashtam.domain.accounts.entities import Account, AccountType, BalanceSnapshot
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence import unit_of_work
from dashtam.infrastructure.persistence.types import DecimalAmount
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork


def uow(container: Container) -> SqlUnitOfWork:
    return SqlUnitOfWork(
        database=container.database, logger=get_logger("t"), signer=container.audit_signer
    )


async def new_owner(container: Container, email: str) -> tuple[UUID, UUID]:
    """A registered user and one ofx-file connection of theirs."""
    user = await container.register_user_handler().handle(
        RegisterUser(email=email, password="a long passphrase")
    )
    assert isinstance(user, Success), user
    connection = await container.create_connection_handler().handle(
        CreateConnection(
            user_id=user.value.id, provider="ofx-file", label="bank", context=AuditContext()
        )
    )
    assert isinstance(connection, Success), connection
    return user.value.id, connection.value.id


def account_data(user_id: UUID, connection_id: UUID, number: str = "0001", **kw: Any) -> Any:
    values: dict[str, Any] = {
        "user_id": user_id,
        "connection_id": connection_id,
        "provider_account_id": number,
        "name": f"Checking {number}",
        "account_type": AccountType.CHECKING,
        "currency": "USD",
        "balance": None,
        "balance_as_of": None,
    }
    return AccountUpsert(**{**values, **kw})


async def upsert_account(container: Container, data: AccountUpsert) -> tuple[Account, bool]:
    async with uow(container) as work:
        result = await work.accounts.upsert(data)
        assert isinstance(result, Success), result
        assert isinstance(await work.commit(), Success)
    return result.value


def tx(fitid: str, amount: str = "-1.00", day: int = 1, **kw: Any) -> ParsedTransaction:
    values: dict[str, Any] = {"posted_on": date(2026, 11, day), "description": f"tx {fitid}"}
    return ParsedTransaction(
        provider_transaction_id=fitid, amount=Decimal(amount), **{**values, **kw}
    )


async def upsert(container: Container, account_id: UUID, *items: ParsedTransaction) -> Any:
    async with uow(container) as work:
        result = await work.transactions.upsert_batch(account_id, "USD", list(items))
        assert isinstance(result, Success), result
        assert isinstance(await work.commit(), Success)
    counts = result.value
    return (counts.new, counts.updated, counts.unchanged)


async def search(
    container: Container,
    query: TransactionQuery,
    *,
    after: TransactionCursor | None = None,
    limit: int = 100,
) -> Sequence[Transaction]:
    async with uow(container) as work:
        result = await work.transactions.search(query, after=after, limit=limit)
    assert isinstance(result, Success), result
    return result.value


@pytest.fixture
async def owner(container: Container) -> tuple[UUID, UUID]:
    return await new_owner(container, "owner@example.com")


@pytest.fixture
async def account(container: Container, owner: tuple[UUID, UUID]) -> Account:
    created, _ = await upsert_account(container, account_data(*owner))
    return created


EXTREMES = ["-0.0001", "0.0001", "99999999999.9999", "-99999999999.9999", "0", "12.3456", "-7"]


async def test_amounts_are_stored_and_returned_exactly(
    container: Container, account: Account
) -> None:
    items = [tx(f"x{i}", text) for i, text in enumerate(EXTREMES)]
    assert await upsert(container, account.id, *items) == (len(EXTREMES), 0, 0)

    found = await search(container, TransactionQuery(user_id=account.user_id))
    stored = {t.provider_transaction_id: t.amount for t in found}
    for i, text in enumerate(EXTREMES):
        assert stored[f"x{i}"] == Decimal(text)
        assert isinstance(stored[f"x{i}"], Decimal)
        assert str(stored[f"x{i}"]) == str(Decimal(text).quantize(Decimal("0.0001")))
    # Re-sending the same values is "unchanged": no float drift between write and read.
    assert await upsert(container, account.id, *items) == (0, 0, len(EXTREMES))


async def test_balances_are_exact_too(container: Container, owner: tuple[UUID, UUID]) -> None:
    as_of = datetime(2026, 11, 20, tzinfo=UTC)
    data = account_data(*owner, balance=Decimal("-99999999999.9999"), balance_as_of=as_of)
    created, _ = await upsert_account(container, data)
    assert created.balance == Decimal("-99999999999.9999")
    async with uow(container) as work:
        snap = BalanceSnapshot(account_id=created.id, balance=Decimal("-0.0001"), as_of=as_of)
        assert await work.accounts.add_snapshot(snap) == Success(True)
        assert isinstance(await work.commit(), Success)
        loaded = await work.accounts.get(created.id)
        history = await work.accounts.balance_history(created.id)
    assert isinstance(loaded, Success)
    assert loaded.value is not None
    assert loaded.value.balance == Decimal("-99999999999.9999")
    assert isinstance(history, Success)
    assert [(s.balance, s.as_of) for s in history.value] == [(Decimal("-0.0001"), as_of)]


async def test_amount_filters_compare_numerically(container: Container, account: Account) -> None:
    # Text or float comparison would order 9 after 10 and 100, or lose the last 0.0001.
    values = ["9", "10", "100", "-5", "-0.0001", "0", "9.9999", "99999999999.9999"]
    await upsert(container, account.id, *(tx(v, v) for v in values))
    user = account.user_id

    async def amounts(**kw: Any) -> list[Decimal]:
        found = await search(container, TransactionQuery(user_id=user, **kw))
        return sorted(t.amount for t in found)

    assert await amounts(min_amount=Decimal("9.5")) == [
        Decimal(v) for v in ["9.9999", "10", "100", "99999999999.9999"]
    ]
    assert await amounts(max_amount=Decimal("-0.0001")) == [Decimal("-5"), Decimal("-0.0001")]
    assert await amounts(min_amount=Decimal("-0.0001"), max_amount=Decimal("0")) == [
        Decimal("-0.0001"),
        Decimal("0"),
    ]
    assert await amounts(min_amount=Decimal("99999999999.9999")) == [Decimal("99999999999.9999")]


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
@pytest.mark.parametrize("value", [Decimal("0.00001"), Decimal("-1.23456")])
def test_decimal_amount_refuses_a_fifth_place_on_every_backend(
    value: Decimal, dialect_name: str
) -> None:
    dialect = sqlite.dialect() if dialect_name == "sqlite" else postgresql.dialect()  # type: ignore[no-untyped-call]
    with pytest.raises(ValueError, match="4 decimal places"):
        DecimalAmount().process_bind_param(value, dialect)


def test_decimal_amount_refuses_floats() -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):  # type: ignore[no-untyped-call]
        with pytest.raises(TypeError, match="Decimal"):
            DecimalAmount().process_bind_param(0.1, dialect)  # type: ignore[arg-type]


async def test_upsert_counts_new_updated_unchanged(container: Container, account: Account) -> None:
    first = [tx("a"), tx("b"), tx("c")]
    assert await upsert(container, account.id, *first) == (3, 0, 0)
    assert await upsert(container, account.id, *first) == (0, 0, 3)
    changed = [tx("a"), replace(tx("b"), memo="corrected"), tx("c", "-2.00"), tx("d")]
    assert await upsert(container, account.id, *changed) == (1, 2, 1)
    # The last occurrence of an id in one batch describes it.
    assert await upsert(container, account.id, tx("e", "1"), tx("e", "2")) == (1, 0, 0)

    found = await search(container, TransactionQuery(user_id=account.user_id))
    by_id = {t.provider_transaction_id: t for t in found}
    assert sorted(by_id) == ["a", "b", "c", "d", "e"]
    assert by_id["b"].memo == "corrected"
    assert by_id["c"].amount == Decimal("-2.00")
    assert by_id["e"].amount == Decimal("2")
    assert all(t.currency == "USD" and t.account_id == account.id for t in found)


async def test_pending_becomes_posted(container: Container, account: Account) -> None:
    pending = tx("p", "-20.00", 3, status=TransactionStatus.PENDING, description="HOLD")
    assert await upsert(container, account.id, pending) == (1, 0, 0)
    posted = replace(pending, status=TransactionStatus.POSTED, posted_on=date(2026, 11, 4))
    assert await upsert(container, account.id, posted) == (0, 1, 0)
    assert await upsert(container, account.id, posted) == (0, 0, 1)
    [stored] = await search(container, TransactionQuery(user_id=account.user_id))
    assert stored.status is TransactionStatus.POSTED
    assert stored.posted_on == date(2026, 11, 4)


async def test_account_upsert_keeps_the_newer_balance(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    nov20, nov10, nov25 = (datetime(2026, 11, d, 12, tzinfo=UTC) for d in (20, 10, 25))
    first, created = await upsert_account(
        container, account_data(*owner, balance=Decimal("100.00"), balance_as_of=nov20)
    )
    assert created
    older, created = await upsert_account(
        container,
        account_data(*owner, name="renamed?", balance=Decimal("50.00"), balance_as_of=nov10),
    )
    assert not created
    assert older.id == first.id
    assert (older.balance, older.balance_as_of, older.name) == (
        Decimal("100.00"),
        nov20,
        "Checking 0001",
    )
    unknown, _ = await upsert_account(container, account_data(*owner))
    assert (unknown.balance, unknown.balance_as_of) == (Decimal("100.00"), nov20)
    newer, _ = await upsert_account(
        container, account_data(*owner, balance=Decimal("150.00"), balance_as_of=nov25)
    )
    assert (newer.balance, newer.balance_as_of) == (Decimal("150.00"), nov25)
    assert newer.version > first.version


async def test_balance_snapshots_are_idempotent(container: Container, account: Account) -> None:
    times = [datetime(2026, 11, d, tzinfo=UTC) for d in (20, 5, 20, 12)]
    added = []
    async with uow(container) as work:
        for n, as_of in enumerate(times):
            snapshot = BalanceSnapshot(account_id=account.id, balance=Decimal(n), as_of=as_of)
            result = await work.accounts.add_snapshot(snapshot)
            assert isinstance(result, Success)
            added.append(result.value)
        assert isinstance(await work.commit(), Success)
        history = await work.accounts.balance_history(account.id)
    assert added == [True, True, False, True]
    assert isinstance(history, Success)
    assert [(s.as_of.day, s.balance) for s in history.value] == [
        (5, Decimal(1)),
        (12, Decimal(3)),
        (20, Decimal(0)),
    ]


# --- search --------------------------------------------------------------------------------


async def test_search_filters(container: Container, owner: tuple[UUID, UUID]) -> None:
    user, connection = owner
    first, _ = await upsert_account(container, account_data(user, connection, "A"))
    second, _ = await upsert_account(container, account_data(user, connection, "B"))
    stranger, _ = await upsert_account(
        container, account_data(*await new_owner(container, "other@example.com"), "A")
    )
    await upsert(
        container,
        first.id,
        tx("f1", "-10", 1, description="Coffee BEANS"),
        tx("f2", "25", 5, payee="Beanstalk Ltd"),
        tx("f3", "-99.99", 9, memo="for the bEaNs"),
        tx("f4", "0", 9, description="100% refund"),
        tx("f5", "5", 12, description="100 refund"),
        tx("f6", "7", 12, description="A_B"),
        tx("f7", "8", 12, description="AxB"),
        tx("f8", "9", 12, description="back\\slash"),
    )
    await upsert(container, second.id, tx("s1", "-1", 5), tx("s2", "2", 6, description="beans"))
    await upsert(container, stranger.id, tx("x1", "-10", 5, description="beans"))

    async def ids(**kw: Any) -> list[str]:
        found = await search(container, TransactionQuery(user_id=user, **kw))
        return sorted(t.provider_transaction_id for t in found)

    owned = ["f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "s1", "s2"]
    assert await ids() == owned
    assert await ids(account_id=second.id) == ["s1", "s2"]
    assert await ids(account_id=stranger.id) == []
    assert await ids(posted_from=date(2026, 11, 5), posted_to=date(2026, 11, 9)) == [
        "f2",
        "f3",
        "f4",
        "s1",
        "s2",
    ]
    assert await ids(posted_from=date(2026, 11, 12)) == ["f5", "f6", "f7", "f8"]
    assert await ids(posted_to=date(2026, 11, 1)) == ["f1"]
    assert await ids(min_amount=Decimal("7"), max_amount=Decimal("25")) == ["f2", "f6", "f7", "f8"]
    assert await ids(text="BEAN") == ["f1", "f2", "f3", "s2"]
    assert await ids(text="bean", account_id=first.id, max_amount=Decimal("0")) == ["f1", "f3"]
    assert await ids(text="%") == ["f4"]
    assert await ids(text="_") == ["f6"]
    assert await ids(text="0% r") == ["f4"]
    assert await ids(text="\\") == ["f8"]
    assert await ids(text="no such thing") == []


async def test_search_is_newest_first(container: Container, account: Account) -> None:
    await upsert(container, account.id, *(tx(f"t{n}", day=1 + n % 4) for n in range(10)))
    found = await search(container, TransactionQuery(user_id=account.user_id))
    keys = [(t.posted_on, t.id) for t in found]
    assert keys == sorted(keys, reverse=True)
    assert len(keys) == 10


async def test_cursor_walks_every_row_once_despite_inserts(
    container: Container, account: Account
) -> None:
    await upsert(container, account.id, *(tx(f"t{n}", day=10 + n % 5) for n in range(23)))
    query = TransactionQuery(user_id=account.user_id)
    seen: list[Transaction] = []
    after: TransactionCursor | None = None
    pages = 0
    reachable: set[str] = set()  # older rows inserted while the cursor was still above them
    while True:
        page = await search(container, query, after=after, limit=4)
        if not page:
            break
        pages += 1
        seen.extend(page)
        after = TransactionCursor(page[-1].posted_on, page[-1].id)
        if after.posted_on.day > 1:
            reachable.add(f"old{pages}")
        # Others import meanwhile: newer rows land before the cursor, older ones after it.
        await upsert(
            container,
            account.id,
            tx(f"new{pages}", day=20),
            tx(f"same{pages}", day=page[-1].posted_on.day),
            tx(f"old{pages}", day=1),
        )
    ids = [t.provider_transaction_id for t in seen]
    assert len(ids) == len(set(ids))
    assert {f"t{n}" for n in range(23)} <= set(ids)
    assert not any(i.startswith("new") for i in ids)
    assert reachable
    assert reachable <= set(ids)
    keys = [(t.posted_on, t.id) for t in seen]
    assert keys == sorted(keys, reverse=True)


async def _last_analyzed(container: Container) -> object:
    async with container.database.get_session() as session:
        found = await session.execute(
            sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'transactions'")
        )
        return found.scalar_one()


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite plans without statistics
async def test_a_commit_that_grew_a_table_by_many_rows_refreshes_its_statistics(
    container: Container, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_of_work, "ANALYZE_AFTER_ROWS", 5)
    await upsert(container, account.id, *(tx(f"small{n}") for n in range(4)))
    assert await _last_analyzed(container) is None  # below the bar: left to autovacuum

    async with uow(container) as work:  # rolled back: nothing grew
        (
            await work.transactions.upsert_batch(
                account.id, "USD", [tx(f"gone{n}") for n in range(9)]
            )
        ).unwrap()
        await work.rollback()
    assert await _last_analyzed(container) is None

    await upsert(container, account.id, *(tx(f"big{n}") for n in range(6)))
    assert await _last_analyzed(container) is not None
