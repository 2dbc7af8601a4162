"""The security, holding and investment transaction contracts on the fakes and both databases."""

from __future__ import annotations

from dashtam.core.ids import new_id
from dashtam.infrastructure.errors import DatabaseError
from tests.contracts.finance_contract import DAY
from tests.contracts.holding_contract import HoldingRepositoryContract
from tests.contracts.investment_cash_contract import InvestmentCashContract
from tests.contracts.investment_contract import SecurityRepositoryContract, described, trade
from tests.contracts.investment_transaction_contract import (
    InvestmentTransactionRepositoryContract,
)
from tests.contracts.repositories import FakeBackend, SqlBackend
from tests.contracts.user_repository_contract import error_of
from tests.fakes import FakeStore


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


async def test_the_fakes_take_planned_faults_and_a_refused_write_poisons_the_transaction() -> None:
    store = FakeStore()
    repositories = store.repositories()
    store.faults.fail_next("holdings.at", DatabaseError("boom"), skip=1)
    assert (await repositories.holdings.at(new_id(), None)).unwrap() == []
    assert error_of(await repositories.holdings.at(new_id(), None)).message == "boom"
    assert (await repositories.securities.upsert([described("1", "A")], as_of=DAY[1])).unwrap()
    batch = [(None, trade("x", "0.00001"))]
    poisoned = await repositories.investment_transactions.upsert_batch(new_id(), "USD", batch)
    assert error_of(poisoned).code == "database_error"
    # Like a failed SQL statement: the whole transaction is dead until rolled back.
    assert error_of(await repositories.securities.get(new_id())).code == "database_error"
    assert repositories.check_staged() is not None
    repositories.discard_staged()
    assert (await store.repositories().securities.get(new_id())).unwrap() is None
