"""``DecimalQuantity`` on both backends, and the investment repositories in both units of work."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from dashtam.core.result import Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.investments.repository import InvestmentTransactionQuery
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.read_unit_of_work import (
    SqlReadUnitOfWork,
    read_session_factory,
)
from dashtam.infrastructure.persistence.types import DecimalQuantity
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.audit_keys import signer_for_tests
from tests.contracts.finance_contract import DAY, account_data, add_connection
from tests.contracts.investment_contract import described, position
from tests.contracts.session_repository_contract import add_user
from tests.fakes.logger import RecordingLogger

DIALECTS = [sqlite.dialect(), postgresql.dialect()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
@pytest.mark.parametrize("value", ["1E-11", "0.12345678901", "NaN", "Infinity", "-Infinity"])
def test_a_quantity_that_cannot_be_stored_exactly_is_refused(dialect: object, value: str) -> None:
    with pytest.raises(ValueError, match=r"decimal places|finite"):
        DecimalQuantity().process_bind_param(Decimal(value), dialect)  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", DIALECTS, ids=["sqlite", "postgresql"])
def test_a_float_quantity_is_refused(dialect: object) -> None:
    with pytest.raises(TypeError, match="Decimal"):
        DecimalQuantity().process_bind_param(0.1, dialect)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("1.5", "1.5000000000"),
        ("1.50", "1.5000000000"),
        ("-0", "0.0000000000"),
        ("-0.0000000000", "0.0000000000"),
        ("1E+3", "1000.0000000000"),
        # Beyond a scaled BIGINT's 9.2e8 units at 10 places, and beyond 28 digits of context.
        ("1234567890123456789012345678.0123456789", "1234567890123456789012345678.0123456789"),
    ],
)
def test_sqlite_stores_one_canonical_text_per_value(value: str, stored: str) -> None:
    quantity = DecimalQuantity()
    dialect = sqlite.dialect()  # type: ignore[no-untyped-call]
    assert quantity.process_bind_param(Decimal(value), dialect) == stored
    assert quantity.process_result_value(stored, dialect) == Decimal(value)


async def test_the_units_of_work_reach_the_investment_repositories(
    database: Database, backend: str
) -> None:
    logger, signer = RecordingLogger(), signer_for_tests()
    async with SqlUnitOfWork(database=database, logger=logger, signer=signer) as uow:
        user = await add_user(uow, "i@example.com")  # type: ignore[arg-type]
        connection = await add_connection(uow, user.id)  # type: ignore[arg-type]
        data = account_data(user.id, connection.id, account_type=AccountType.BROKERAGE)
        account, _ = (await uow.accounts.upsert(data)).unwrap()
        ids = (await uow.securities.upsert([described("1", "Fund")], as_of=DAY[1])).unwrap()
        [security_id] = ids.values()
        units = "987654321.0123456789"  # a scaled BIGINT would overflow here on SQLite
        snapshot = [(security_id, position("1", units, "1.0000000001", "987654321.11"))]
        (await uow.holdings.add_snapshot(account.id, "USD", DAY[1], snapshot)).unwrap()
        assert await uow.commit() == Success(None)
    reads = SqlReadUnitOfWork(
        database=database, sessions=read_session_factory(database), signer=signer, logger=logger
    )
    async with reads as read:
        [holding] = (await read.holdings.latest_for_user(user.id)).unwrap()
        assert (str(holding.units), holding.security.name) == (units, "Fund")
        query = InvestmentTransactionQuery(account_id=account.id)
        found = await read.investment_transactions.search(query, after=None, limit=5)
        assert found == Success([])
        if backend == "sqlite":
            stored = await read.session.scalar(
                text("SELECT typeof(units) || ':' || units FROM holdings")
            )
            assert stored == f"text:{units}"
