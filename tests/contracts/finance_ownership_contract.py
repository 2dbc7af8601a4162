"""Ownership and optimistic versioning of connections and accounts, written once.

``get_owned`` answers None both for a missing row and for someone else's, so no caller can
tell the two apart; ``ConnectionRepository.update`` refuses a stale ``version`` as users do.
``test_finance_repositories`` runs these on the fakes, SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dashtam.core.errors import ConflictError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.providers.entities import ConnectionStatus
from tests.contracts.finance_contract import DAY, account_data, add_account, add_connection
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.session_repository_contract import add_user
from tests.contracts.user_repository_contract import error_of


class ConnectionOwnershipContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_get_owned_finds_the_owners_connection_only(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_user(harness.adapter, "owner@example.com")
        other = await add_user(harness.adapter, "other@example.com")
        connection = await add_connection(harness.adapter, owner.id)
        repositories = await harness.reopen()
        owned = await repositories.connections.get_owned(owner.id, connection.id)
        assert owned == await repositories.connections.get(connection.id)
        assert owned.unwrap() is not None
        # Someone else's connection and a missing one give the very same answer.
        assert await repositories.connections.get_owned(other.id, connection.id) == Success(None)
        assert await repositories.connections.get_owned(owner.id, new_id()) == Success(None)

    async def test_a_stale_update_is_a_conflict_and_changes_nothing(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        connection = await add_connection(harness.adapter, user.id)
        repositories = await harness.reopen()
        loaded = (await repositories.connections.get_owned(user.id, connection.id)).unwrap()
        assert loaded is not None
        winner = (await repositories.connections.update(replace(loaded, label="winner"))).unwrap()
        assert winner.version == loaded.version + 1
        error = error_of(await repositories.connections.update(replace(loaded, label="loser")))
        assert isinstance(error, ConflictError)
        assert error.code == "stale_version"

        stored = (await (await harness.reopen()).connections.get(connection.id)).unwrap()
        assert stored is not None
        assert (stored.label, stored.version) == ("winner", winner.version)

    async def test_an_import_in_between_makes_a_loaded_copy_stale(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        connection = await add_connection(harness.adapter, user.id)
        repositories = await harness.reopen()
        loaded = (await repositories.connections.get_owned(user.id, connection.id)).unwrap()
        assert loaded is not None
        # The stamp is an unversioned UPDATE: it bumps the stored version behind the copy's back.
        (await repositories.connections.record_import(connection.id, now=DAY[3])).unwrap()
        disconnected = replace(loaded, status=ConnectionStatus.DISCONNECTED)
        error = error_of(await repositories.connections.update(disconnected))
        assert isinstance(error, ConflictError)
        assert error.code == "stale_version"

        stored = (await (await harness.discard()).connections.get(connection.id)).unwrap()
        assert stored is not None
        assert (stored.status, stored.version) == (ConnectionStatus.ACTIVE, 1)


class AccountOwnershipContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_get_owned_finds_the_owners_account_only(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_user(harness.adapter, "owner@example.com")
        other = await add_user(harness.adapter, "other@example.com")
        connection = await add_connection(harness.adapter, owner.id)
        account = await add_account(harness.adapter, account_data(owner.id, connection.id))
        repositories = await harness.reopen()
        assert await repositories.accounts.get_owned(owner.id, account.id) == Success(account)
        # Someone else's account and a missing one give the very same answer.
        assert await repositories.accounts.get_owned(other.id, account.id) == Success(None)
        assert await repositories.accounts.get_owned(owner.id, new_id()) == Success(None)
        assert await repositories.accounts.get_owned(other.id, new_id()) == Success(None)
