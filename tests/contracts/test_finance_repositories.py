"""The connection, account and transaction contracts on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.contracts.finance_contract import (
    AccountRepositoryContract,
    ConnectionRepositoryContract,
)
from tests.contracts.repositories import FakeBackend, SqlBackend
from tests.contracts.transaction_contract import TransactionRepositoryContract


class TestFakeConnectionRepository(FakeBackend, ConnectionRepositoryContract):
    pass


class TestSqlConnectionRepository(SqlBackend, ConnectionRepositoryContract):
    pass


class TestFakeAccountRepository(FakeBackend, AccountRepositoryContract):
    pass


class TestSqlAccountRepository(SqlBackend, AccountRepositoryContract):
    pass


class TestFakeTransactionRepository(FakeBackend, TransactionRepositoryContract):
    pass


class TestSqlTransactionRepository(SqlBackend, TransactionRepositoryContract):
    pass
