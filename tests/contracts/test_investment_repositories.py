"""The security, holding and investment transaction contracts on the fakes and both databases."""

from __future__ import annotations

from tests.contracts.holding_contract import HoldingRepositoryContract
from tests.contracts.investment_cash_contract import InvestmentCashContract
from tests.contracts.investment_contract import SecurityRepositoryContract
from tests.contracts.investment_transaction_contract import (
    InvestmentTransactionRepositoryContract,
)
from tests.contracts.repositories import FakeBackend, SqlBackend


class TestFakeSecurityRepository(FakeBackend, SecurityRepositoryContract):
    pass


class TestSqlSecurityRepository(SqlBackend, SecurityRepositoryContract):
    pass


class TestFakeHoldingRepository(FakeBackend, HoldingRepositoryContract, InvestmentCashContract):
    pass


class TestSqlHoldingRepository(SqlBackend, HoldingRepositoryContract, InvestmentCashContract):
    pass


class TestFakeInvestmentTransactionRepository(FakeBackend, InvestmentTransactionRepositoryContract):
    pass


class TestSqlInvestmentTransactionRepository(SqlBackend, InvestmentTransactionRepositoryContract):
    pass
