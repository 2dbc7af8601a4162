"""Imports through the real handler on PostgreSQL and SQLite: all or nothing, idempotent, owned."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashtam.application.finance.commands import (
    CreateConnection,
    DisconnectConnection,
    ImportStatement,
    SearchTransactions,
)
from dashtam.application.finance.imports import ImportStatementHandler
from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.statement import CsvOptions
from dashtam.domain.transactions.repository import TransactionQuery
from dashtam.infrastructure.importers.factory import StatementParsers
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.finance import (
    AccountModel,
    BalanceSnapshotModel,
    TransactionModel,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "imports"
_emails = itertools.count()


async def new_connection(container: Container, provider: str = "ofx-file") -> tuple[UUID, UUID]:
    """A fresh user (unique per call) and one connection of theirs."""
    user = await container.register_user_handler().handle(
        RegisterUser(email=f"user{next(_emails)}@example.com", password="a long passphrase")
    )
    assert isinstance(user, Success), user
    connection = await container.create_connection_handler().handle(
        CreateConnection(
            user_id=user.value.id, provider=provider, label="bank", context=AuditContext()
        )
    )
    assert isinstance(connection, Success), connection
    return user.value.id, connection.value.id


async def run_import(
    container: Container,
    owner: tuple[UUID, UUID],
    data: bytes,
    *,
    handler: ImportStatementHandler | None = None,
    csv: dict[str, Any] | None = None,
) -> Any:
    user_id, connection_id = owner
    command = ImportStatement(
        user_id=user_id,
        connection_id=connection_id,
        data=data,
        filename="statement",
        csv=CsvOptions(**(csv or {})),
        context=AuditContext(actor_id=user_id),
    )
    return await (handler or container.import_statement_handler()).handle(command)


def counts(report: Any) -> tuple[int, ...]:
    assert isinstance(report, Success), report
    r = report.value
    return (
        r.accounts_created,
        r.accounts_updated,
        r.transactions_new,
        r.transactions_updated,
        r.transactions_unchanged,
        r.balance_snapshots_added,
    )


async def count(container: Container, model: Any, *where: Any) -> int:
    async with container.database.get_session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def stored(container: Container, user_id: UUID) -> dict[str, tuple[Any, ...]]:
    """The user's transactions by provider id: (amount, memo, status)."""
    async with container.database.get_session() as session:
        rows = await session.execute(
            select(TransactionModel)
            .join(AccountModel, AccountModel.id == TransactionModel.account_id)
            .where(AccountModel.user_id == user_id)
        )
        return {
            t.provider_transaction_id: (t.amount, t.memo, t.status) for t in rows.scalars().all()
        }


async def audit_rows(container: Container, action: str) -> list[AuditLogModel]:
    async with container.database.get_session() as session:
        query = select(AuditLogModel).where(AuditLogModel.action == action)
        return list((await session.scalars(query.order_by(AuditLogModel.id))).all())


def ofx(*transactions: tuple[str, str, str | None], account: str = "12345678") -> bytes:
    """An OFX 2.x checking statement of (fitid, amount, memo) items."""
    items = "".join(
        f"<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20261102</DTPOSTED>"
        f"<TRNAMT>{amount}</TRNAMT><FITID>{fitid}</FITID><NAME>SHOP</NAME>"
        + (f"<MEMO>{memo}</MEMO>" if memo else "")
        + "</STMTTRN>"
        for fitid, amount, memo in transactions
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STMTRS><CURDEF>USD</CURDEF>"
        f"<BANKACCTFROM><BANKID>1</BANKID><ACCTID>{account}</ACCTID>"
        "<ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM><BANKTRANLIST>"
        f"{items}</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    ).encode()


@pytest.fixture
async def owner(container: Container) -> tuple[UUID, UUID]:
    return await new_connection(container)


async def assert_nothing_stored(container: Container, user_id: UUID) -> None:
    assert await count(container, AccountModel, AccountModel.user_id == user_id) == 0
    assert await count(container, TransactionModel) == 0
    assert await count(container, BalanceSnapshotModel) == 0


@pytest.mark.parametrize(
    ("name", "csv", "code", "location"),
    [
        ("malformed_amount.ofx", {}, "invalid_amount", "STMTRS #1 STMTTRN #4 TRNAMT"),
        ("malformed_date.csv", {"preset": "chase-checking"}, "invalid_date", "line 3"),
        (
            "malformed_amount.csv",
            {"preset": "chase-checking"},
            "invalid_amount",
            'line 3 column "Amount"',
        ),
    ],
)
async def test_a_file_invalid_at_its_last_row_leaves_nothing(
    container: Container, name: str, csv: dict[str, str], code: str, location: str
) -> None:
    user_id, connection_id = owner = await new_connection(
        container, "csv-file" if name.endswith(".csv") else "ofx-file"
    )
    result = await run_import(container, owner, (FIXTURES / name).read_bytes(), csv=csv)
    assert isinstance(result, Failure)
    assert (result.error.code, result.error.details["location"]) == (code, location)
    await assert_nothing_stored(container, user_id)
    [failed] = await audit_rows(container, "import.failed")
    assert (failed.outcome, failed.reason, failed.resource_id) == ("failed", code, connection_id)
    assert failed.actor_id == user_id
    assert await audit_rows(container, "import.succeeded") == []


async def test_the_failed_audit_row_says_where(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    await run_import(container, owner, (FIXTURES / "malformed_amount.ofx").read_bytes())
    [failed] = await audit_rows(container, "import.failed")
    assert failed.details.get("location") == "STMTRS #1 STMTTRN #4 TRNAMT"


async def test_a_database_failure_at_the_last_batch_rolls_everything_back(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    # Earlier batches, the account and its snapshot are flushed before the last row fails.
    trigger_body = "SELECT RAISE(ABORT, 'injected failure');"
    async with container.database.transaction() as session:
        connection = await session.connection()
        if container.database.is_sqlite:
            await connection.exec_driver_sql(
                "CREATE TRIGGER fail_last BEFORE INSERT ON transactions "
                f"WHEN NEW.provider_transaction_id = 'LAST' BEGIN {trigger_body} END"
            )
        else:
            await connection.exec_driver_sql(
                "CREATE FUNCTION fail_last() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'injected failure' USING ERRCODE = 'XX000'; END $$"
            )
            await connection.exec_driver_sql(
                "CREATE TRIGGER fail_last BEFORE INSERT ON transactions FOR EACH ROW "
                "WHEN (NEW.provider_transaction_id = 'LAST') EXECUTE FUNCTION fail_last()"
            )
    handler = ImportStatementHandler(
        uow_factory=container.unit_of_work,
        parsers=StatementParsers(),
        logger=container.logger("t"),
        batch_size=2,
    )
    data = (FIXTURES / "checking_ofx1_sgml.ofx").read_bytes()
    data = data.replace(b"<FITID>202611150", b"<FITID>LAST")
    result = await run_import(container, owner, data, handler=handler)
    assert isinstance(result, Failure)
    assert isinstance(result.error, Error)
    await assert_nothing_stored(container, owner[0])
    assert len(await audit_rows(container, "import.failed")) == 1


async def test_importing_the_same_file_twice_adds_nothing(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    data = (FIXTURES / "checking_ofx1_sgml.ofx").read_bytes()
    assert counts(await run_import(container, owner, data)) == (1, 0, 4, 0, 0, 1)
    before = await stored(container, owner[0])
    assert counts(await run_import(container, owner, data)) == (0, 1, 0, 0, 4, 0)
    assert await stored(container, owner[0]) == before
    assert await count(container, TransactionModel) == 4
    assert await count(container, BalanceSnapshotModel) == 1
    assert len(await audit_rows(container, "import.succeeded")) == 2


async def test_csv_files_twice_including_identical_rows(container: Container) -> None:
    owner = await new_connection(container, "csv-file")
    data = (FIXTURES / "chase_checking.csv").read_bytes()
    first = await run_import(container, owner, data, csv={"preset": "chase-checking"})
    assert counts(first) == (1, 0, 6, 0, 0, 1)
    report = await run_import(container, owner, data, csv={"preset": "chase-checking"})
    assert counts(report) == (0, 1, 0, 0, 6, 0)
    assert await count(container, TransactionModel) == 6
    descriptions = await stored(container, owner[0])
    assert len(descriptions) == 6


async def test_an_overlapping_file_reports_exact_counts(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    first = ofx(("1", "-1.00", None), ("2", "-2.00", "a"), ("3", "-3.00", "b"))
    later = ofx(
        ("2", "-2.00", "a"), ("3", "-3.00", "b changed"), ("4", "4", None), ("5", "5", None)
    )
    assert counts(await run_import(container, owner, first)) == (1, 0, 3, 0, 0, 0)
    assert counts(await run_import(container, owner, later)) == (0, 1, 2, 1, 1, 0)
    assert await stored(container, owner[0]) == {
        "1": (Decimal("-1.00"), None, "posted"),
        "2": (Decimal("-2.00"), "a", "posted"),
        "3": (Decimal("-3.00"), "b changed", "posted"),
        "4": (Decimal("4"), None, "posted"),
        "5": (Decimal("5"), None, "posted"),
    }


statements = st.lists(
    st.dictionaries(
        keys=st.sampled_from([f"F{n}" for n in range(8)]),
        values=st.tuples(
            st.decimals(min_value=-1000, max_value=1000, places=2), st.sampled_from([None, "m1"])
        ),
        min_size=1,
        max_size=6,
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=statements)
async def test_any_sequence_of_overlapping_files_leaves_the_union_by_id(
    container: Container, sequence: list[dict[str, tuple[Decimal, str | None]]]
) -> None:
    owner = await new_connection(container)
    expected: dict[str, tuple[Any, ...]] = {}
    for statement in sequence:
        data = ofx(*((fitid, str(amount), memo) for fitid, (amount, memo) in statement.items()))
        report = await run_import(container, owner, data)
        assert isinstance(report, Success), report
        new = sum(fitid not in expected for fitid in statement)
        changed = sum(
            fitid in expected and expected[fitid][:2] != v for fitid, v in statement.items()
        )
        assert report.value.transactions_new == new
        assert report.value.transactions_updated == changed
        assert report.value.transactions_unchanged == len(statement) - new - changed
        expected.update({fitid: (amount, memo) for fitid, (amount, memo) in statement.items()})
    assert {k: v[:2] for k, v in (await stored(container, owner[0])).items()} == expected


async def test_two_concurrent_imports_store_each_transaction_once(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    data = (FIXTURES / "checking_ofx1_sgml.ofx").read_bytes()
    first, second = await asyncio.gather(
        run_import(container, owner, data), run_import(container, owner, data)
    )
    # Both succeed on both engines: the second waits on the first's new account row (or the
    # SQLite write lock), then finds every transaction already there.
    assert isinstance(first, Success), first
    assert isinstance(second, Success), second
    assert first.value.transactions_new + second.value.transactions_new == 4
    assert first.value.accounts_created + second.value.accounts_created == 1
    assert await count(container, TransactionModel) == 4
    assert await count(container, AccountModel) == 1
    assert await count(container, BalanceSnapshotModel) == 1
    assert len(await stored(container, owner[0])) == 4


async def test_another_users_connection_is_not_found(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    stranger, _ = await new_connection(container)
    data = (FIXTURES / "checking_ofx1_sgml.ofx").read_bytes()
    result = await run_import(container, (stranger, owner[1]), data)
    assert isinstance(result, Failure)
    assert isinstance(result.error, NotFoundError)
    missing = await run_import(container, (owner[0], stranger), data)
    assert isinstance(missing, Failure)
    assert isinstance(missing.error, NotFoundError)
    await assert_nothing_stored(container, owner[0])
    assert [r.reason for r in await audit_rows(container, "import.failed")] == [
        "not_found",
        "not_found",
    ]


async def test_a_disconnected_connection_refuses_imports(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    disconnected = await container.disconnect_connection_handler().handle(
        DisconnectConnection(
            user_id=owner[0], connection_id=owner[1], purge=False, context=AuditContext()
        )
    )
    assert isinstance(disconnected, Success), disconnected
    result = await run_import(container, owner, (FIXTURES / "savings.qfx").read_bytes())
    assert isinstance(result, Failure)
    assert isinstance(result.error, ConflictError)
    assert result.error.code == "connection_disconnected"
    await assert_nothing_stored(container, owner[0])


async def test_queries_are_owned_and_every_read_is_audited(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    user_id = owner[0]
    imported = await run_import(container, owner, (FIXTURES / "creditcard_ofx2.ofx").read_bytes())
    assert isinstance(imported, Success)
    stranger, _ = await new_connection(container)
    queries = container.finance_queries()
    context = AuditContext(actor_id=user_id)

    def search(user: UUID, account: UUID | None) -> SearchTransactions:
        query = TransactionQuery(user_id=user, account_id=account)
        return SearchTransactions(query=query, after=None, limit=50, context=context)

    accounts = await queries.accounts(user_id, context)
    assert isinstance(accounts, Success)
    [account] = accounts.value
    reads = [
        await queries.connections(user_id, context),
        await queries.account(user_id, account.id, context),
        await queries.balance_history(user_id, account.id, context),
        await queries.transactions(search(user_id, account.id)),
        await queries.transactions(search(user_id, None)),
        await queries.net_worth(user_id, context),
    ]
    assert all(isinstance(read, Success) for read in reads), reads
    by_account = await queries.transactions(search(user_id, account.id))
    assert isinstance(by_account, Success)
    assert len(by_account.value) == 3
    (await container.read_audit_log.flush()).unwrap()  # read records are written in batches
    audited = await audit_rows(container, "financial_data.read")
    assert len(audited) == 8
    assert {row.actor_id for row in audited} == {user_id}
    assert {row.outcome for row in audited} == {"succeeded"}

    other = AuditContext(actor_id=stranger)
    for denied in (
        await queries.account(stranger, account.id, other),
        await queries.balance_history(stranger, account.id, other),
        await queries.transactions(search(stranger, account.id)),
    ):
        assert isinstance(denied, Failure)
        assert isinstance(denied.error, NotFoundError)
    mine = await queries.accounts(stranger, other)
    assert isinstance(mine, Success)
    assert mine.value == []
    everything = await queries.transactions(search(stranger, None))
    assert isinstance(everything, Success)
    assert everything.value == []


async def test_concurrent_imports_into_an_existing_account_race_on_rows_only(
    container: Container, owner: tuple[UUID, UUID]
) -> None:
    # No balance in the file: nothing locks the account row, so on PostgreSQL both imports
    # read "no such transaction" and both insert; the unique key plus ON CONFLICT DO NOTHING
    # must leave each row once. (SQLite serialises writers with BEGIN IMMEDIATE.)
    seed = await run_import(container, owner, ofx(("seed", "1", None)))
    assert counts(seed)[:3] == (1, 0, 1)
    data = ofx(*((f"R{n}", f"-{n}.25", None) for n in range(60)))
    results = await asyncio.gather(*(run_import(container, owner, data) for _ in range(3)))
    assert all(isinstance(result, Success) for result in results), results
    assert sum(result.value.transactions_new for result in results) == 60
    assert sum(result.value.transactions_unchanged for result in results) == 120
    assert await count(container, TransactionModel) == 61
    assert await count(container, AccountModel) == 1


async def test_an_id_repeated_in_a_later_batch_of_a_new_account_updates_its_row(
    container: Container,
) -> None:
    # An account the import creates holds only what it wrote: a later batch looks up just
    # the ids earlier batches had, and the last occurrence of one still wins.
    from tests.unit.application.finance_support import ScriptedParser, ScriptedParsers, part, tx

    owner = await new_connection(container)
    parser = ScriptedParser([part(tx("A"), tx("B")), part(tx("C"), tx("A", "-2.50", memo="m"))])
    handler = ImportStatementHandler(
        uow_factory=container.unit_of_work,
        parsers=ScriptedParsers(parser),
        logger=container.logger("t"),
        batch_size=2,
    )
    assert counts(await run_import(container, owner, b"OFX", handler=handler))[:5] == (
        1,
        0,
        3,
        1,
        0,
    )
    rows = await stored(container, owner[0])
    assert set(rows) == {"A", "B", "C"}
    assert rows["A"][:2] == (Decimal("-2.5000"), "m")
