"""The ``ConnectionRepository`` and ``AccountRepository`` contracts, written once.

``test_finance_repositories`` runs them (and the transaction contract) on the fakes, SQLite and
PostgreSQL. Accounts point at connections and connections at users, so each case builds its
owners through the bundle's ``users`` and ``connections`` first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.accounts.entities import Account, AccountType, BalanceSnapshot
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.transactions.repository import TransactionQuery
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.session_repository_contract import NOW, add_user
from tests.contracts.user_repository_contract import assert_utc, error_of

DAY = [datetime(2024, 11, d, 12, tzinfo=UTC) for d in range(1, 31)]


async def add_connection(
    repositories: Repositories, user_id: UUID, label: str = "bank"
) -> ProviderConnection:
    connection = ProviderConnection(
        user_id=user_id, provider=ProviderSlug.OFX_FILE, label=label, created_at=NOW, updated_at=NOW
    )
    return (await repositories.connections.add(connection)).unwrap()


async def add_owner(
    repositories: Repositories, email: str = "owner@example.com"
) -> tuple[UUID, UUID]:
    """A user and one connection of theirs: (user id, connection id)."""
    user = await add_user(repositories, email)
    return user.id, (await add_connection(repositories, user.id)).id


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


async def add_account(repositories: Repositories, data: AccountUpsert) -> Account:
    account, created = (await repositories.accounts.upsert(data)).unwrap()
    assert created
    return account


def tx(fitid: str, amount: str = "-1.00", day: int = 1, **kw: Any) -> ParsedTransaction:
    values: dict[str, Any] = {"posted_on": date(2024, 11, day), "description": f"tx {fitid}"}
    return ParsedTransaction(
        provider_transaction_id=fitid, amount=Decimal(amount), **{**values, **kw}
    )


def snapshot(account_id: UUID, balance: str, as_of: datetime) -> BalanceSnapshot:
    return BalanceSnapshot(account_id=account_id, balance=Decimal(balance), as_of=as_of)


async def fitids(repositories: Repositories, user_id: UUID, **kw: Any) -> list[str]:
    query = TransactionQuery(user_id=user_id, **kw)
    found = (await repositories.transactions.search(query, after=None, limit=1000)).unwrap()
    return sorted(t.provider_transaction_id for t in found)


class ConnectionRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_add_then_get_round_trips_in_utc(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        plus_two = timezone(timedelta(hours=2))
        connection = ProviderConnection(
            user_id=user.id,
            provider=ProviderSlug.CSV_FILE,
            label="Joint account",
            created_at=NOW.astimezone(plus_two),
            updated_at=NOW.astimezone(plus_two),
            version=7,  # ignored: a new row starts at version 1
        )
        added = (await harness.adapter.connections.add(connection)).unwrap()
        assert (added.id, added.version) == (connection.id, 1)

        repositories = await harness.reopen()
        stored = (await repositories.connections.get(connection.id)).unwrap()
        assert stored == replace(connection, created_at=NOW, updated_at=NOW, version=1)
        assert stored is not None
        assert stored.status is ConnectionStatus.ACTIVE
        assert stored.last_import_at is None
        assert_utc(stored.created_at)
        assert await repositories.connections.get(new_id()) == Success(None)

    async def test_a_taken_id_is_a_duplicate(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        connection = await add_connection(harness.adapter, user.id)
        repositories = await harness.reopen()
        error = error_of(await repositories.connections.add(replace(connection, label="again")))
        assert isinstance(error, ConflictError)
        assert error.code == "duplicate"

    async def test_update_copies_label_status_and_import_time(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        connection = await add_connection(harness.adapter, user.id)
        repositories = await harness.reopen()
        loaded = (await repositories.connections.get(connection.id)).unwrap()
        assert loaded is not None
        same = (await repositories.connections.update(loaded)).unwrap()
        assert (same.version, same.updated_at) == (1, NOW)  # nothing changed: no UPDATE
        changed = replace(
            loaded, label="renamed", status=ConnectionStatus.DISCONNECTED, last_import_at=DAY[2]
        )
        updated = (await repositories.connections.update(changed)).unwrap()
        assert (updated.label, updated.version) == ("renamed", 2)
        assert updated.updated_at > NOW

        stored = (await (await harness.reopen()).connections.get(connection.id)).unwrap()
        assert stored is not None
        assert (stored.label, stored.status, stored.last_import_at, stored.version) == (
            "renamed",
            ConnectionStatus.DISCONNECTED,
            DAY[2],
            2,
        )
        assert not stored.is_active

    async def test_update_of_an_unknown_connection_is_not_found(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        ghost = ProviderConnection(user_id=user.id, provider=ProviderSlug.MANUAL, label="x")
        assert isinstance(error_of(await harness.adapter.connections.update(ghost)), NotFoundError)

    async def test_record_import_stamps_the_time_and_bumps_the_version(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        connection = await add_connection(harness.adapter, user.id)
        repositories = await harness.reopen()
        stamp = DAY[4].astimezone(timezone(timedelta(hours=-5)))
        assert await repositories.connections.record_import(connection.id, now=stamp) == Success(
            None
        )
        assert await repositories.connections.record_import(new_id(), now=stamp) == Success(None)

        stored = (await (await harness.reopen()).connections.get(connection.id)).unwrap()
        assert stored is not None
        assert (stored.last_import_at, stored.updated_at, stored.version) == (DAY[4], DAY[4], 2)
        assert stored.last_import_at is not None
        assert_utc(stored.last_import_at)

    async def test_list_for_user_is_the_owners_only_in_id_order(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_user(harness.adapter, "owner@example.com")
        other = await add_user(harness.adapter, "other@example.com")
        mine = [await add_connection(harness.adapter, owner.id, f"c{n}") for n in range(3)]
        await add_connection(harness.adapter, other.id, "theirs")
        repositories = await harness.reopen()
        listed = (await repositories.connections.list_for_user(owner.id)).unwrap()
        assert [c.id for c in listed] == sorted(c.id for c in mine)
        assert await repositories.connections.list_for_user(new_id()) == Success([])


class AccountRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_upsert_creates_then_finds_by_connection_and_number(
        self, harness: Harness[Repositories]
    ) -> None:
        user_id, connection_id = await add_owner(harness.adapter)
        first, created = (
            await harness.adapter.accounts.upsert(account_data(user_id, connection_id))
        ).unwrap()
        assert created
        assert (first.name, first.account_type, first.currency) == (
            "Checking 0001",
            AccountType.CHECKING,
            "USD",
        )
        assert (first.balance, first.balance_as_of, first.version) == (None, None, 1)
        repositories = await harness.reopen()
        # Name, type and currency describe a new account only; the stored ones stay.
        again = account_data(
            user_id, connection_id, name="Other", account_type=AccountType.SAVINGS, currency="EUR"
        )
        second, created = (await repositories.accounts.upsert(again)).unwrap()
        assert not created
        assert second == first
        other_connection = await add_connection(repositories, user_id, "second bank")
        elsewhere = account_data(user_id, other_connection.id)
        third, created = (await repositories.accounts.upsert(elsewhere)).unwrap()
        assert created
        assert third.id != first.id

        repositories = await harness.reopen()
        assert (await repositories.accounts.get(first.id)).unwrap() == first
        assert await repositories.accounts.get(new_id()) == Success(None)
        listed = (await repositories.accounts.list_for_user(user_id)).unwrap()
        assert [a.id for a in listed] == sorted([first.id, third.id])
        assert await repositories.accounts.list_for_user(new_id()) == Success([])

    async def test_the_balance_only_moves_forward_in_time(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_owner(harness.adapter)
        accounts = harness.adapter.accounts
        first, _ = (
            await accounts.upsert(
                account_data(*owner, balance=Decimal("100"), balance_as_of=DAY[20])
            )
        ).unwrap()
        assert (first.balance, first.balance_as_of) == (Decimal("100"), DAY[20])
        older = account_data(*owner, balance=Decimal("50"), balance_as_of=DAY[10])
        kept, _ = (await accounts.upsert(older)).unwrap()
        assert (kept.balance, kept.balance_as_of, kept.version) == (
            Decimal("100"),
            DAY[20],
            first.version,
        )
        unknown, _ = (await accounts.upsert(account_data(*owner))).unwrap()
        assert (unknown.balance, unknown.balance_as_of) == (Decimal("100"), DAY[20])
        same_time = account_data(*owner, balance=Decimal("-12.5"), balance_as_of=DAY[20])
        moved, _ = (await accounts.upsert(same_time)).unwrap()
        assert (moved.balance, moved.version) == (Decimal("-12.5"), first.version + 1)

        repositories = await harness.reopen()
        # A balance without a time is "now": later than any statement so far.
        before = utcnow()
        undated, _ = (
            await repositories.accounts.upsert(account_data(*owner, balance=Decimal("7.25")))
        ).unwrap()
        assert undated.balance == Decimal("7.25")
        assert undated.balance_as_of is not None
        assert undated.balance_as_of >= before
        stored = (await (await harness.reopen()).accounts.get(first.id)).unwrap()
        assert stored is not None
        assert (stored.balance, stored.version) == (Decimal("7.25"), first.version + 2)
        assert str(stored.balance) == "7.2500"  # exact, at the column's scale
        assert stored.balance_as_of is not None
        assert_utc(stored.balance_as_of)

    async def test_delete_removes_the_account_its_transactions_and_snapshots(
        self, harness: Harness[Repositories]
    ) -> None:
        user_id, connection_id = await add_owner(harness.adapter)
        doomed = await add_account(harness.adapter, account_data(user_id, connection_id, "A"))
        kept = await add_account(harness.adapter, account_data(user_id, connection_id, "B"))
        for account, prefix in ((doomed, "a"), (kept, "b")):
            batch = [tx(f"{prefix}1"), tx(f"{prefix}2")]
            (await harness.adapter.transactions.upsert_batch(account.id, "USD", batch)).unwrap()
            (
                await harness.adapter.accounts.add_snapshot(snapshot(account.id, "1", DAY[1]))
            ).unwrap()
        repositories = await harness.reopen()
        assert await repositories.accounts.delete(doomed.id) == Success(None)
        assert await repositories.accounts.delete(new_id()) == Success(None)
        # ON DELETE CASCADE acts at once, inside the transaction.
        assert await repositories.accounts.balance_history(doomed.id) == Success([])

        repositories = await harness.reopen()
        assert await repositories.accounts.get(doomed.id) == Success(None)
        assert await repositories.accounts.balance_history(doomed.id) == Success([])
        assert len((await repositories.accounts.balance_history(kept.id)).unwrap()) == 1
        assert await fitids(repositories, user_id) == ["b1", "b2"]

    async def test_delete_for_connection_cascades_to_that_connection_only(
        self, harness: Harness[Repositories]
    ) -> None:
        user_id, first = await add_owner(harness.adapter)
        second = (await add_connection(harness.adapter, user_id, "other bank")).id
        doomed = [await add_account(harness.adapter, account_data(user_id, first, n)) for n in "AB"]
        kept = await add_account(harness.adapter, account_data(user_id, second, "A"))
        for account in [*doomed, kept]:
            batch = [tx(f"{account.id}")]
            (await harness.adapter.transactions.upsert_batch(account.id, "USD", batch)).unwrap()
        repositories = await harness.reopen()
        assert await repositories.accounts.delete_for_connection(first) == Success(2)
        assert await repositories.accounts.delete_for_connection(new_id()) == Success(0)

        repositories = await harness.reopen()
        listed = (await repositories.accounts.list_for_user(user_id)).unwrap()
        assert [a.id for a in listed] == [kept.id]
        assert await fitids(repositories, user_id) == [str(kept.id)]
        assert (await repositories.connections.get(first)).unwrap() is not None

    async def test_snapshots_are_idempotent_per_time_and_read_oldest_first(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_owner(harness.adapter)
        account = await add_account(harness.adapter, account_data(*owner))
        other = await add_account(harness.adapter, account_data(*owner, "0002"))
        added = [
            (
                await harness.adapter.accounts.add_snapshot(snapshot(account.id, str(n), day))
            ).unwrap()
            for n, day in enumerate([DAY[20], DAY[5], DAY[20], DAY[12]])
        ]
        assert added == [True, True, False, True]
        assert await harness.adapter.accounts.add_snapshot(
            snapshot(other.id, "9", DAY[20])
        ) == Success(True)
        repositories = await harness.reopen()
        again = snapshot(account.id, "-0.0001", DAY[5].astimezone(timezone(timedelta(hours=3))))
        assert await repositories.accounts.add_snapshot(again) == Success(False)

        history = (await (await harness.reopen()).accounts.balance_history(account.id)).unwrap()
        assert [(s.as_of, s.balance) for s in history] == [
            (DAY[5], Decimal(1)),
            (DAY[12], Decimal(3)),
            (DAY[20], Decimal(0)),
        ]
        assert all(s.account_id == account.id for s in history)
        assert_utc(history[0].as_of)

    async def test_an_account_needs_its_connection(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        error = error_of(await harness.adapter.accounts.upsert(account_data(user.id, new_id())))
        assert error.code == "integrity_error"

    async def test_a_snapshot_needs_its_account(self, harness: Harness[Repositories]) -> None:
        refused = await harness.adapter.accounts.add_snapshot(snapshot(new_id(), "1", DAY[1]))
        assert error_of(refused).code == "integrity_error"

    async def test_rolled_back_writes_leave_nothing(self, harness: Harness[Repositories]) -> None:
        owner = await add_owner(harness.adapter)
        await harness.reopen()
        account = await add_account(harness.adapter, account_data(*owner))
        (await harness.adapter.accounts.add_snapshot(snapshot(account.id, "1", DAY[1]))).unwrap()
        repositories = await harness.discard()
        assert await repositories.accounts.get(account.id) == Success(None)
        assert await repositories.accounts.list_for_user(owner[0]) == Success([])
