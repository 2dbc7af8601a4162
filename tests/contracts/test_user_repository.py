"""The ``UserRepository`` contract against the fake, and SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.repositories.users import SqlUserRepository
from tests.contracts.harness import Harness, SqlSessionHarness
from tests.contracts.user_repository_contract import UserRepositoryContract
from tests.contracts.user_search_contract import UserSearchContract
from tests.fakes import FakeUserRepository


class FakeUserHarness:
    def __init__(self) -> None:
        self.adapter = FakeUserRepository()

    async def reopen(self) -> FakeUserRepository:
        self.adapter.apply_staged()
        self.adapter = FakeUserRepository(table=self.adapter.table)
        return self.adapter

    async def discard(self) -> FakeUserRepository:
        self.adapter.discard_staged()
        self.adapter = FakeUserRepository(table=self.adapter.table)
        return self.adapter


class TestFakeUserRepository(UserRepositoryContract, UserSearchContract):
    @pytest.fixture
    def harness(self) -> Harness[FakeUserRepository]:
        return FakeUserHarness()


class TestSqlUserRepository(UserRepositoryContract, UserSearchContract):
    """Runs on both backends: ``database`` is parametrized by the root ``backend`` fixture."""

    @pytest.fixture
    async def harness(self, database: Database) -> AsyncIterator[Harness[SqlUserRepository]]:
        harness = SqlSessionHarness(database, lambda session: SqlUserRepository(session=session))
        await harness.open()
        try:
            yield harness
        finally:
            await harness.close()
