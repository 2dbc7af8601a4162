"""ImportStatementHandler: counts, idempotency, all or nothing, ownership and progress."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from dashtam.application.finance.commands import ImportReport, ImportStatement
from dashtam.application.finance.imports import ImportStatementHandler
from dashtam.core.errors import ConflictError, Error, NotFoundError, ValidationError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome
from dashtam.domain.imports.statement import ParserFactory, import_error
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import StatementImported
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.errors import DatabaseError
from dashtam.infrastructure.importers.factory import StatementParsers
from tests.fakes import FakeClock, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import (
    MASKED,
    OWNER,
    STATEMENT_DATE,
    STRANGER,
    PartResult,
    ScriptedParser,
    ScriptedParsers,
    part,
    seed_account,
    seed_connection,
    tx,
)
from tests.unit.application.support import error_of

FIXTURES = Path(__file__).parents[2] / "fixtures" / "imports"
DATA = b"OFXHEADER:100\n..."


def statement() -> list[PartResult]:
    """Two accounts over three parts; the checking balance arrives with its last part."""
    return [
        part(tx("c1"), tx("c2", "12.5", 2), tx("c3", "-3", 3), done=3, total=6),
        part(
            tx("s1", "100", 4), number="SAV-42", account_type=AccountType.SAVINGS, done=4, total=6
        ),
        part(tx("c4", "-4", 5), tx("c5", "-5", 6), balance="1234.56", done=6, total=6),
    ]


def handler(
    store: FakeStore, parsers: ParserFactory, logger: RecordingLogger, clock: FakeClock
) -> ImportStatementHandler:
    return ImportStatementHandler(
        uow_factory=store.uow, parsers=parsers, logger=logger, batch_size=2, clock=clock
    )


def command(
    connection_id: UUID, *, user_id: UUID = OWNER, progress: list[tuple[int, int]] | None = None
) -> ImportStatement:
    return ImportStatement(
        user_id=user_id,
        connection_id=connection_id,
        data=DATA,
        filename="april.ofx",
        context=CONTEXT,
        progress=None if progress is None else lambda done, total: progress.append((done, total)),
    )


@pytest.fixture
def connection(store: FakeStore) -> ProviderConnection:
    return seed_connection(store)


async def run(
    store: FakeStore,
    logger: RecordingLogger,
    clock: FakeClock,
    connection_id: UUID,
    parts: list[PartResult],
    progress: list[tuple[int, int]] | None = None,
) -> Result[ImportReport, Error]:
    parsers = ScriptedParsers(ScriptedParser(parts))
    importer = handler(store, parsers, logger, clock)
    return await importer.handle(command(connection_id, progress=progress))


def failed_entries(store: FakeStore) -> list[AuditEntry]:
    return store.audit_entries(action=AuditAction.IMPORT_FAILED, outcome=AuditOutcome.FAILED)


def assert_nothing_written(store: FakeStore, connection: ProviderConnection) -> None:
    assert (store.accounts, store.transactions, store.balance_snapshots) == ({}, {}, {})
    assert store.connections[connection.id] == connection
    assert store.events_of(StatementImported) == []


async def test_an_import_reports_counts_and_stores_everything(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    report = (await run(store, logger, clock, connection.id, statement())).unwrap()
    assert report == ImportReport(
        connection_id=connection.id,
        format="ofx",
        accounts_created=2,
        accounts_updated=0,
        transactions_new=6,
        transactions_updated=0,
        transactions_unchanged=0,
        balance_snapshots_added=1,
    )
    accounts = {a.provider_account_id: a for a in store.accounts.values()}
    checking, savings = accounts["123456789"], accounts["SAV-42"]
    assert (checking.name, checking.balance, checking.balance_as_of) == (
        f"Checking {MASKED}",
        Decimal("1234.56"),
        STATEMENT_DATE,
    )
    assert (savings.account_type, savings.balance, savings.user_id) == (
        AccountType.SAVINGS,
        None,
        connection.user_id,
    )
    by_fitid = {t.provider_transaction_id: t for t in store.transactions.values()}
    assert {k: v.account_id == checking.id for k, v in by_fitid.items()} == {
        "c1": True,
        "c2": True,
        "c3": True,
        "c4": True,
        "c5": True,
        "s1": False,
    }
    assert store.connections[connection.id].last_import_at == clock.now
    [event] = store.events_of(StatementImported)
    assert isinstance(event, StatementImported)
    assert (event.transactions_new, event.transactions_updated) == (6, 0)
    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.resource_id, entry.actor_id) == (
        AuditAction.IMPORT_SUCCEEDED,
        AuditOutcome.SUCCEEDED,
        connection.id,
        connection.user_id,
    )
    assert entry.metadata == {
        "filename": "april.ofx",
        "bytes": len(DATA),
        "format": "ofx",
        "transactions_new": 6,
        "transactions_updated": 0,
        "transactions_unchanged": 0,
    }
    assert [r.fields["new"] for r in logger.find("statement_imported")] == [6]


async def test_importing_the_same_file_again_adds_nothing(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    (await run(store, logger, clock, connection.id, statement())).unwrap()
    before = (dict(store.accounts), dict(store.transactions), dict(store.balance_snapshots))
    clock.advance(days=1)
    again = (await run(store, logger, clock, connection.id, statement())).unwrap()
    assert (again.accounts_created, again.accounts_updated) == (0, 2)
    assert (again.transactions_new, again.transactions_updated, again.transactions_unchanged) == (
        0,
        0,
        6,
    )
    assert again.balance_snapshots_added == 0
    assert (store.transactions, store.balance_snapshots) == before[1:]
    assert store.accounts.keys() == before[0].keys()
    # An overlapping later file: only what is new or changed counts.
    later = [part(tx("c5", "-5", 6, status=TransactionStatus.PENDING), tx("c6"), done=2, total=2)]
    third = (await run(store, logger, clock, connection.id, later)).unwrap()
    assert (third.transactions_new, third.transactions_updated, third.transactions_unchanged) == (
        1,
        1,
        0,
    )
    assert len(store.transactions) == 7


async def test_a_failure_mid_stream_rolls_back_every_earlier_part(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    bad = Failure(import_error("not a number: 'abc'", location="line 12"))
    parser = ScriptedParser([*statement()[:2], bad, statement()[2]])
    parsers = ScriptedParsers(parser)
    error = error_of(await handler(store, parsers, logger, clock).handle(command(connection.id)))
    assert isinstance(error, ValidationError)
    assert (error.code, error.details) == ("invalid_file", {"location": "line 12"})
    assert parser.yielded == 3  # nothing read after the failure
    assert_nothing_written(store, connection)
    [entry] = store.audit_log
    assert entry == failed_entries(store)[0]
    assert (entry.reason, entry.resource_id) == ("invalid_file", connection.id)
    assert entry.metadata == {"filename": "april.ofx", "bytes": len(DATA), "location": "line 12"}
    assert logger.find("statement_import_failed")[0].fields == {"code": "invalid_file"}


async def test_a_failed_reimport_leaves_the_earlier_import_untouched(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    (await run(store, logger, clock, connection.id, statement())).unwrap()
    before = (dict(store.accounts), dict(store.transactions), dict(store.connections))
    changed = part(tx("c1", "-999"), tx("new"), balance="1", done=1, total=2)
    clock.advance(days=3)
    bad = Failure(import_error("truncated", location="STMTTRN #2"))
    assert isinstance(
        error_of(await run(store, logger, clock, connection.id, [changed, bad])), ValidationError
    )
    assert (dict(store.accounts), dict(store.transactions), dict(store.connections)) == before
    assert failed_entries(store)[0].metadata["location"] == "STMTTRN #2"


async def test_a_disconnected_connection_is_a_conflict(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock
) -> None:
    connection = seed_connection(store, status=ConnectionStatus.DISCONNECTED)
    parsers = ScriptedParsers(ScriptedParser(statement()))
    result = await handler(store, parsers, logger, clock).handle(command(connection.id))
    error = error_of(result)
    assert isinstance(error, ConflictError)
    assert error.code == "connection_disconnected"
    assert parsers.asked == []
    assert_nothing_written(store, connection)
    assert [e.reason for e in failed_entries(store)] == ["connection_disconnected"]


async def test_another_users_connection_is_not_found(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    parsers = ScriptedParsers(ScriptedParser(statement()))
    importer = handler(store, parsers, logger, clock)
    for target in (connection.id, new_id()):
        result = await importer.handle(command(target, user_id=STRANGER))
        assert isinstance(error_of(result), NotFoundError)
    assert parsers.asked == []
    assert_nothing_written(store, connection)
    assert [e.reason for e in failed_entries(store)] == ["not_found", "not_found"]
    assert all(e.actor_id == STRANGER for e in store.audit_log)


async def test_a_currency_mismatch_refuses_the_whole_file(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    account = await seed_account(store, connection, currency="USD", transactions=2)
    before = (dict(store.accounts), dict(store.transactions))
    parts = [
        part(tx("s1"), number="SAV-42", done=1, total=2),
        part(tx("c1"), currency="EUR", done=2, total=2),
    ]
    error = error_of(await run(store, logger, clock, connection.id, parts))
    assert isinstance(error, ConflictError)
    assert error.code == "currency_mismatch"
    assert "USD" in error.message
    assert "EUR" in error.message
    assert account.provider_account_id not in error.message  # only the masked number
    assert (dict(store.accounts), dict(store.transactions)) == before
    assert [e.reason for e in failed_entries(store)] == ["currency_mismatch"]


async def test_progress_is_reported_after_each_part(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    progress: list[tuple[int, int]] = []
    (await run(store, logger, clock, connection.id, statement(), progress=progress)).unwrap()
    assert progress == [(3, 6), (4, 6), (6, 6)]
    done = [d for d, _ in progress]
    assert done == sorted(done)
    assert len(set(done)) == len(done)


async def test_a_failed_commit_leaves_nothing_and_is_audited(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    store.fail_next_commit()
    error = error_of(await run(store, logger, clock, connection.id, statement()))
    assert isinstance(error, DatabaseError)
    assert_nothing_written(store, connection)
    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.reason) == (
        AuditAction.IMPORT_FAILED,
        AuditOutcome.FAILED,
        error.code,
    )
    assert logger.find("statement_imported") == []


async def test_a_failed_batch_write_rolls_back_the_earlier_batches(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    store.faults.fail_next("transactions.upsert_batch", DatabaseError("down"), skip=1)
    assert isinstance(
        error_of(await run(store, logger, clock, connection.id, statement())), DatabaseError
    )
    assert_nothing_written(store, connection)
    assert len(failed_entries(store)) == 1


async def test_a_provider_without_file_imports_is_refused(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock
) -> None:
    connection = seed_connection(store, provider=ProviderSlug.MANUAL)
    refusal = ValidationError("no files here", code="imports_not_supported")
    result = await handler(store, ScriptedParsers(refusal=refusal), logger, clock).handle(
        command(connection.id)
    )
    assert error_of(result) == refusal
    assert_nothing_written(store, connection)
    assert [e.reason for e in failed_entries(store)] == ["imports_not_supported"]


async def test_a_real_ofx_file_imports_once(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, connection: ProviderConnection
) -> None:
    data = (FIXTURES / "checking_ofx1_sgml.ofx").read_bytes()
    importer = handler(store, StatementParsers(), logger, clock)
    first = ImportStatement(user_id=OWNER, connection_id=connection.id, data=data, context=CONTEXT)
    report = (await importer.handle(first)).unwrap()
    assert (report.format, report.accounts_created, report.transactions_new) == ("ofx", 1, 4)
    [account] = store.accounts.values()
    assert (account.balance, account.currency) == (Decimal("3253.34"), "USD")
    again = (await importer.handle(first)).unwrap()
    assert (again.transactions_new, again.transactions_unchanged) == (0, 4)
    assert len(store.transactions) == 4
