"""The finance fakes keep SqlUnitOfWork's transaction promises (beyond the port contracts)."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from dashtam.core.errors import ConflictError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.transactions.repository import TransactionQuery
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeStore
from tests.unit.application.finance_support import OWNER, seed_account, seed_connection, tx
from tests.unit.application.support import error_of


def upsert_data(connection_id: UUID, number: str = "0001") -> AccountUpsert:
    return AccountUpsert(
        user_id=OWNER,
        connection_id=connection_id,
        provider_account_id=number,
        name="Checking",
        account_type=AccountType.CHECKING,
        currency="USD",
        balance=Decimal("1"),
        balance_as_of=None,
    )


async def test_staged_finance_rows_are_invisible_to_others_until_commit(
    store: FakeStore,
) -> None:
    connection = seed_connection(store)
    async with store.uow() as writer:
        account, _ = (await writer.accounts.upsert(upsert_data(connection.id))).unwrap()
        (await writer.transactions.upsert_batch(account.id, "USD", [tx("a")])).unwrap()
        async with store.uow() as reader:
            assert await reader.accounts.get(account.id) == Success(None)
            query = TransactionQuery(user_id=OWNER)
            assert await reader.transactions.search(query, after=None, limit=9) == Success([])
        assert (store.accounts, store.transactions) == ({}, {})
        assert await writer.commit() == Success(None)
    assert list(store.accounts) == [account.id]
    assert len(store.transactions) == 1


async def test_a_failed_write_poisons_all_three_repositories_until_rollback(
    store: FakeStore,
) -> None:
    connection = seed_connection(store)
    async with store.uow() as uow:
        (await uow.accounts.upsert(upsert_data(connection.id))).unwrap()
        refused = await uow.transactions.upsert_batch(new_id(), "USD", [tx("a")])
        assert error_of(refused).code == "integrity_error"
        # Like PostgreSQL after an error: every statement fails until the rollback.
        assert isinstance(error_of(await uow.connections.get(connection.id)), DatabaseError)
        assert isinstance(error_of(await uow.accounts.list_for_user(OWNER)), DatabaseError)
        assert isinstance(error_of(await uow.commit()), DatabaseError)
        assert (await uow.connections.get(connection.id)).unwrap() == connection
    assert store.accounts == {}


async def test_a_fault_fails_one_call_without_poisoning(store: FakeStore) -> None:
    connection = seed_connection(store)
    store.faults.fail_next("connections.get", DatabaseError("blip"))
    async with store.uow() as uow:
        assert isinstance(error_of(await uow.connections.get(connection.id)), DatabaseError)
        assert (await uow.connections.get(connection.id)).unwrap() == connection


async def test_concurrent_creation_of_one_account_conflicts_at_commit(store: FakeStore) -> None:
    # SQL would make the second writer wait on the unique index and then reuse the row; the
    # fake cannot wait, so the later commit reports the collision instead of duplicating it.
    connection = seed_connection(store)
    async with store.uow() as first, store.uow() as second:
        (await first.accounts.upsert(upsert_data(connection.id))).unwrap()
        (await second.accounts.upsert(upsert_data(connection.id))).unwrap()
        assert await first.commit() == Success(None)
        assert isinstance(error_of(await second.commit()), ConflictError)
    assert len(store.accounts) == 1


async def test_a_commit_after_a_concurrent_purge_cascades(store: FakeStore) -> None:
    connection = seed_connection(store)
    account = await seed_account(store, connection, transactions=1)
    async with store.uow() as purge, store.uow() as importer:
        (await importer.transactions.upsert_batch(account.id, "USD", [tx("late")])).unwrap()
        assert await purge.accounts.delete_for_connection(connection.id) == Success(1)
        assert await purge.commit() == Success(None)
        assert error_of(await importer.commit()).code == "integrity_error"
    assert (store.accounts, store.transactions) == ({}, {})


async def test_a_purge_cascades_over_rows_committed_meanwhile(store: FakeStore) -> None:
    connection = seed_connection(store)
    account = await seed_account(store, connection, transactions=1)
    async with store.uow() as purge, store.uow() as importer:
        assert await purge.accounts.delete_for_connection(connection.id) == Success(1)
        (await importer.transactions.upsert_batch(account.id, "USD", [tx("late")])).unwrap()
        assert await importer.commit() == Success(None)
        assert len(store.transactions) == 2
        assert await purge.commit() == Success(None)
    assert (store.accounts, store.transactions) == ({}, {})
