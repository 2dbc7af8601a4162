"""An import into a connection created with it: it exists only if the import succeeds."""

from __future__ import annotations

from dashtam.application.finance.commands import ImportStatement, NewConnection
from dashtam.application.finance.imports import ImportStatementHandler
from dashtam.core.result import Failure
from dashtam.domain.audit import AuditAction, AuditOutcome
from dashtam.domain.imports.statement import import_error
from dashtam.domain.providers.entities import ConnectionStatus, ProviderSlug
from dashtam.domain.providers.events import ProviderConnected, StatementImported
from tests.fakes import FakeClock, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import (
    OWNER,
    PartResult,
    ScriptedParser,
    ScriptedParsers,
    part,
    seed_account,
    seed_connection,
    tx,
)
from tests.unit.application.support import error_of

OFX = b"OFXHEADER:100\n..."


def importer(store: FakeStore, parts: list[PartResult]) -> ImportStatementHandler:
    return ImportStatementHandler(
        uow_factory=store.uow,
        parsers=ScriptedParsers(ScriptedParser(parts)),
        logger=RecordingLogger(),
        clock=FakeClock(),
    )


def into_new(
    label: str = "Chase", *, only_if_first: bool = True, data: bytes = OFX
) -> ImportStatement:
    return ImportStatement(
        user_id=OWNER,
        new_connection=NewConnection(label=label, only_if_first=only_if_first),
        data=data,
        filename="chase.ofx",
        context=CONTEXT,
    )


async def test_the_new_connection_commits_with_the_import(store: FakeStore) -> None:
    report = (await importer(store, [part(tx("a"))]).handle(into_new())).unwrap()
    [connection] = store.connections.values()
    assert (connection.id, connection.label, connection.provider) == (
        report.connection_id,
        "Chase",
        ProviderSlug.OFX_FILE,  # from the content: the scripted factory reads OFX headers
    )
    assert report.transactions_new == 1
    assert [e.connection_id for e in store.events_of(ProviderConnected)] == [connection.id]  # type: ignore[attr-defined]
    assert len(store.events_of(StatementImported)) == 1
    created = store.audit_entries(action=AuditAction.CONNECTION_CREATED)
    imported = store.audit_entries(action=AuditAction.IMPORT_SUCCEEDED)
    assert [(e.resource_id, e.outcome) for e in created + imported] == [
        (connection.id, AuditOutcome.SUCCEEDED),
        (connection.id, AuditOutcome.SUCCEEDED),
    ]


async def test_a_bad_first_file_leaves_no_connection_behind(store: FakeStore) -> None:
    refusal: PartResult = Failure(import_error("bad amount", location="STMTTRN #2"))
    error = error_of(await importer(store, [part(tx("a")), refusal]).handle(into_new()))
    assert error.code == "invalid_file"
    assert (store.connections, store.transactions) == ({}, {})
    assert store.events_of(ProviderConnected) == []
    [failed] = store.audit_entries(action=AuditAction.IMPORT_FAILED)
    assert failed.metadata["location"] == "STMTTRN #2"
    assert store.audit_entries(action=AuditAction.CONNECTION_CREATED) == []


async def test_a_second_bank_is_never_merged_into_the_first(store: FakeStore) -> None:
    first = seed_connection(store, label="Chase")
    error = error_of(await importer(store, [part(tx("a"))]).handle(into_new("Amex")))
    assert error.code == "connection_required"
    assert str(first.id) in error.message
    assert list(store.connections) == [first.id]
    assert store.transactions == {}


async def test_a_disconnected_connection_does_not_count_as_the_first(store: FakeStore) -> None:
    seed_connection(store, status=ConnectionStatus.DISCONNECTED)
    report = (await importer(store, [part(tx("a"))]).handle(into_new())).unwrap()
    assert store.connections[report.connection_id].is_active


async def test_asking_for_another_connection_creates_it(store: FakeStore) -> None:
    seed_connection(store, label="Chase")
    report = (
        await importer(store, [part(tx("a"))]).handle(into_new("Amex", only_if_first=False))
    ).unwrap()
    assert store.connections[report.connection_id].label == "Amex"
    assert len(store.connections) == 2


async def test_content_no_parser_reads_is_refused_plainly(store: FakeStore) -> None:
    error = error_of(await importer(store, []).handle(into_new(data=b"\x89PNG\r\n")))
    assert error.code == "unknown_format"
    assert store.connections == {}


async def test_a_file_whose_account_is_known_goes_where_it_went_before(store: FakeStore) -> None:
    other = seed_connection(store, label="Amex")
    chase = seed_connection(store, label="Chase")
    await seed_account(store, chase)  # the account the statement is about
    report = (await importer(store, [part(tx("a"))]).handle(into_new("again"))).unwrap()
    assert report.connection_id == chase.id
    assert (report.accounts_created, report.accounts_updated) == (0, 1)
    assert set(store.connections) == {other.id, chase.id}
    assert store.audit_entries(action=AuditAction.CONNECTION_CREATED) == []
