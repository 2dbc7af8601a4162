"""A bundle of every repository over one transaction, for the contracts of the ports.

Sessions and personal tokens point at users, refresh tokens at sessions, accounts at
connections (foreign keys), so these contracts need the neighbouring repositories of the same
transaction; the bundle gives them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.domain.accounts.repository import AccountRepository
from dashtam.domain.auth.repository import (
    LoginAttemptRepository,
    RefreshTokenRepository,
    SessionRepository,
)
from dashtam.domain.investments.repository import (
    HoldingRepository,
    InvestmentTransactionRepository,
    SecurityRepository,
)
from dashtam.domain.personal_tokens.repository import PersonalTokenRepository
from dashtam.domain.providers.repository import ConnectionRepository
from dashtam.domain.transactions.repository import TransactionRepository
from dashtam.domain.users.repository import UserRepository
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.repositories.accounts import SqlAccountRepository
from dashtam.infrastructure.persistence.repositories.auth import (
    SqlLoginAttemptRepository,
    SqlRefreshTokenRepository,
    SqlSessionRepository,
)
from dashtam.infrastructure.persistence.repositories.connections import SqlConnectionRepository
from dashtam.infrastructure.persistence.repositories.holdings import SqlHoldingRepository
from dashtam.infrastructure.persistence.repositories.investment_transactions import (
    SqlInvestmentTransactionRepository,
)
from dashtam.infrastructure.persistence.repositories.personal_tokens import (
    SqlPersonalTokenRepository,
)
from dashtam.infrastructure.persistence.repositories.securities import SqlSecurityRepository
from dashtam.infrastructure.persistence.repositories.transactions import SqlTransactionRepository
from dashtam.infrastructure.persistence.repositories.users import SqlUserRepository
from tests.contracts.harness import Harness, SqlSessionHarness
from tests.fakes import FakeRepositories, FakeStore


class Repositories(Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def login_attempts(self) -> LoginAttemptRepository: ...

    @property
    def personal_tokens(self) -> PersonalTokenRepository: ...

    @property
    def connections(self) -> ConnectionRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def transactions(self) -> TransactionRepository: ...

    @property
    def securities(self) -> SecurityRepository: ...

    @property
    def holdings(self) -> HoldingRepository: ...

    @property
    def investment_transactions(self) -> InvestmentTransactionRepository: ...


@dataclass
class SqlRepositories:
    users: SqlUserRepository
    sessions: SqlSessionRepository
    refresh_tokens: SqlRefreshTokenRepository
    login_attempts: SqlLoginAttemptRepository
    personal_tokens: SqlPersonalTokenRepository
    connections: SqlConnectionRepository
    accounts: SqlAccountRepository
    transactions: SqlTransactionRepository
    securities: SqlSecurityRepository
    holdings: SqlHoldingRepository
    investment_transactions: SqlInvestmentTransactionRepository

    @classmethod
    def over(cls, session: AsyncSession) -> SqlRepositories:
        return cls(
            users=SqlUserRepository(session=session),
            sessions=SqlSessionRepository(session=session),
            refresh_tokens=SqlRefreshTokenRepository(session=session),
            login_attempts=SqlLoginAttemptRepository(session=session),
            personal_tokens=SqlPersonalTokenRepository(session=session),
            connections=SqlConnectionRepository(session=session),
            accounts=SqlAccountRepository(session=session),
            transactions=SqlTransactionRepository(session=session),
            securities=SqlSecurityRepository(session=session),
            holdings=SqlHoldingRepository(session=session),
            investment_transactions=SqlInvestmentTransactionRepository(session=session),
        )


class FakeRepositoriesHarness:
    """``reopen`` applies the staged writes (the fake commit); ``discard`` drops them."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.adapter: FakeRepositories = self.store.repositories()

    async def reopen(self) -> FakeRepositories:
        self.adapter.apply_staged()
        self.adapter = self.store.repositories()
        return self.adapter

    async def discard(self) -> FakeRepositories:
        self.adapter.discard_staged()
        self.adapter = self.store.repositories()
        return self.adapter


class FakeBackend:
    """Mixin: run a contract against the in-memory fakes."""

    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        return FakeRepositoriesHarness()


class SqlBackend:
    """Mixin: run a contract on SQL; ``database`` is parametrized by the ``backend`` fixture."""

    @pytest.fixture
    async def harness(self, database: Database) -> AsyncIterator[Harness[Repositories]]:
        harness = SqlSessionHarness(database, SqlRepositories.over)
        await harness.open()
        try:
            yield harness
        finally:
            await harness.close()
