"""The connection, account and transaction contracts on the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from tests.contracts.finance_contract import (
    AccountRepositoryContract,
    ConnectionRepositoryContract,
)
from tests.contracts.finance_ownership_contract import (
    AccountOwnershipContract,
    ConnectionOwnershipContract,
)
from tests.contracts.repositories import FakeBackend, SqlBackend
from tests.contracts.statement_details_contract import StatementDetailsContract
from tests.contracts.transaction_contract import TransactionRepositoryContract
from tests.contracts.transaction_links_contract import TransactionLinksContract


class TestFakeConnectionRepository(
    FakeBackend, ConnectionRepositoryContract, ConnectionOwnershipContract
):
    pass


class TestSqlConnectionRepository(
    SqlBackend, ConnectionRepositoryContract, ConnectionOwnershipContract
):
    pass


class TestFakeAccountRepository(FakeBackend, AccountRepositoryContract, AccountOwnershipContract):
    pass


class TestSqlAccountRepository(SqlBackend, AccountRepositoryContract, AccountOwnershipContract):
    pass


class TestFakeTransactionRepository(
    FakeBackend, TransactionRepositoryContract, StatementDetailsContract, TransactionLinksContract
):
    pass


class TestSqlTransactionRepository(
    SqlBackend, TransactionRepositoryContract, StatementDetailsContract, TransactionLinksContract
):
    pass
