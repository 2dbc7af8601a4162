"""Connection and account handlers: create, disconnect (keep or purge), delete an account."""

from __future__ import annotations

from uuid import UUID

import pytest

from dashtam.application.finance.commands import (
    CreateConnection,
    DeleteAccount,
    DisconnectConnection,
)
from dashtam.application.finance.handlers import (
    MAX_LABEL_LENGTH,
    CreateConnectionHandler,
    DeleteAccountHandler,
    DisconnectConnectionHandler,
)
from dashtam.core.errors import NotFoundError, ValidationError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.accounts.events import AccountDeleted
from dashtam.domain.audit import AuditAction, AuditOutcome, ResourceType
from dashtam.domain.providers.entities import ConnectionStatus, ProviderSlug
from dashtam.domain.providers.events import ProviderConnected, ProviderDisconnected
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeStore
from tests.unit.application.conftest import CONTEXT
from tests.unit.application.finance_support import (
    MASKED,
    NUMBER,
    OWNER,
    STRANGER,
    seed_account,
    seed_connection,
)
from tests.unit.application.support import error_of


def create(provider: str = "ofx-file", label: str = "  Checking at B1  ") -> CreateConnection:
    return CreateConnection(user_id=OWNER, provider=provider, label=label, context=CONTEXT)


# --- CreateConnectionHandler ---------------------------------------------------------------


async def test_create_stores_the_connection_with_event_and_audit(store: FakeStore) -> None:
    connection = (await CreateConnectionHandler(uow_factory=store.uow).handle(create())).unwrap()
    assert (connection.user_id, connection.provider, connection.label) == (
        OWNER,
        ProviderSlug.OFX_FILE,
        "Checking at B1",
    )
    assert connection.status is ConnectionStatus.ACTIVE
    assert store.connections[connection.id] == connection
    [event] = store.events_of(ProviderConnected)
    assert isinstance(event, ProviderConnected)
    assert (event.user_id, event.connection_id, event.provider) == (
        OWNER,
        connection.id,
        "ofx-file",
    )
    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.resource_type, entry.resource_id) == (
        AuditAction.CONNECTION_CREATED,
        AuditOutcome.SUCCEEDED,
        ResourceType.PROVIDER_CONNECTION,
        connection.id,
    )
    assert entry.metadata == {"provider": "ofx-file"}
    assert entry.ip_address == CONTEXT.ip_address


@pytest.mark.parametrize(
    ("label", "stored"),
    [("   ", "csv-file"), ("x" * 300, "x" * MAX_LABEL_LENGTH), ("Joint", "Joint")],
)
async def test_the_label_is_trimmed_clipped_or_defaulted(
    store: FakeStore, label: str, stored: str
) -> None:
    handler = CreateConnectionHandler(uow_factory=store.uow)
    connection = (await handler.handle(create("csv-file", label))).unwrap()
    assert connection.label == stored


async def test_an_unknown_provider_is_refused_and_audited(store: FakeStore) -> None:
    result = await CreateConnectionHandler(uow_factory=store.uow).handle(create("plaid"))
    error = error_of(result)
    assert isinstance(error, ValidationError)
    assert (error.code, error.details) == ("unknown_provider", {"field": "provider"})
    assert "ofx-file" in error.message
    assert (store.connections, store.outbox) == ({}, [])
    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.reason, entry.resource_id) == (
        AuditAction.CONNECTION_CREATED,
        AuditOutcome.FAILED,
        "unknown_provider",
        None,
    )


async def test_a_failed_write_or_commit_leaves_nothing_but_a_failed_audit(
    store: FakeStore,
) -> None:
    handler = CreateConnectionHandler(uow_factory=store.uow)
    store.faults.fail_next("connections.add", DatabaseError("down", code="database_error"))
    assert error_of(await handler.handle(create())).code == "database_error"
    store.fail_next_commit()
    assert isinstance(error_of(await handler.handle(create())), DatabaseError)
    assert (store.connections, store.outbox) == ({}, [])
    assert [(e.outcome, e.reason) for e in store.audit_log] == [
        (AuditOutcome.FAILED, "database_error"),
        (AuditOutcome.FAILED, "database_error"),
    ]


# --- DisconnectConnectionHandler -----------------------------------------------------------


def disconnect(connection_id: UUID, *, purge: bool) -> DisconnectConnection:
    return DisconnectConnection(
        user_id=OWNER, connection_id=connection_id, purge=purge, context=CONTEXT
    )


async def test_disconnect_keeps_the_data_by_default(store: FakeStore) -> None:
    connection = seed_connection(store)
    account = await seed_account(store, connection, balance="10", transactions=3)
    handler = DisconnectConnectionHandler(uow_factory=store.uow)
    assert await handler.handle(disconnect(connection.id, purge=False)) == Success(None)
    assert store.connections[connection.id].status is ConnectionStatus.DISCONNECTED
    assert list(store.accounts) == [account.id]
    assert (len(store.transactions), len(store.balance_snapshots)) == (3, 1)
    [event] = store.events_of(ProviderDisconnected)
    assert isinstance(event, ProviderDisconnected)
    assert (event.connection_id, event.purged) == (connection.id, False)
    [entry] = store.audit_log
    assert (entry.action, entry.outcome) == (
        AuditAction.CONNECTION_DISCONNECTED,
        AuditOutcome.SUCCEEDED,
    )
    assert entry.metadata == {"purge": False, "accounts_deleted": 0}


async def test_disconnecting_again_changes_and_announces_nothing(store: FakeStore) -> None:
    connection = seed_connection(store)
    handler = DisconnectConnectionHandler(uow_factory=store.uow)
    assert await handler.handle(disconnect(connection.id, purge=False)) == Success(None)
    assert await handler.handle(disconnect(connection.id, purge=False)) == Success(None)
    assert len(store.events_of(ProviderDisconnected)) == 1
    assert len(store.audit_log) == 1


async def test_disconnect_with_purge_removes_that_connections_data_only(
    store: FakeStore,
) -> None:
    connection = seed_connection(store)
    other = seed_connection(store, label="Other bank")
    await seed_account(store, connection, "A-1", balance="10", transactions=3)
    await seed_account(store, connection, "A-2", transactions=2)
    kept = await seed_account(store, other, "B-1", balance="5", transactions=4)
    handler = DisconnectConnectionHandler(uow_factory=store.uow)
    assert await handler.handle(disconnect(connection.id, purge=True)) == Success(None)
    assert list(store.accounts) == [kept.id]
    assert {t.account_id for t in store.transactions.values()} == {kept.id}
    assert len(store.transactions) == 4
    assert [s.account_id for s in store.balance_snapshots.values()] == [kept.id]
    assert store.connections[connection.id].status is ConnectionStatus.DISCONNECTED
    assert store.connections[other.id].is_active
    [event] = store.events_of(ProviderDisconnected)
    assert isinstance(event, ProviderDisconnected)
    assert event.purged
    assert store.audit_log[0].metadata == {"purge": True, "accounts_deleted": 2}


@pytest.mark.parametrize("purge", [False, True])
async def test_another_users_connection_is_not_found(store: FakeStore, purge: bool) -> None:
    connection = seed_connection(store, user_id=STRANGER)
    await seed_account(store, connection, transactions=2)
    handler = DisconnectConnectionHandler(uow_factory=store.uow)
    for target in (connection.id, new_id()):
        error = error_of(await handler.handle(disconnect(target, purge=purge)))
        assert isinstance(error, NotFoundError)
    assert store.connections[connection.id].is_active
    assert (len(store.accounts), len(store.transactions), store.outbox) == (1, 2, [])
    assert [(e.outcome, e.reason) for e in store.audit_log] == [
        (AuditOutcome.FAILED, "not_found"),
        (AuditOutcome.FAILED, "not_found"),
    ]
    assert store.audit_log[0].resource_id == connection.id


async def test_a_failed_commit_undoes_the_purge(store: FakeStore) -> None:
    connection = seed_connection(store)
    await seed_account(store, connection, transactions=2)
    store.fail_next_commit()
    handler = DisconnectConnectionHandler(uow_factory=store.uow)
    assert isinstance(
        error_of(await handler.handle(disconnect(connection.id, purge=True))),
        DatabaseError,
    )
    assert store.connections[connection.id].is_active
    assert (len(store.accounts), len(store.transactions), store.outbox) == (1, 2, [])
    assert [e.outcome for e in store.audit_log] == [AuditOutcome.FAILED]


# --- DeleteAccountHandler ------------------------------------------------------------------


def delete(account_id: UUID) -> DeleteAccount:
    return DeleteAccount(user_id=OWNER, account_id=account_id, context=CONTEXT)


async def test_delete_account_removes_its_rows_with_event_and_masked_audit(
    store: FakeStore,
) -> None:
    connection = seed_connection(store)
    doomed = await seed_account(store, connection, balance="10", transactions=3)
    kept = await seed_account(store, connection, "987654321", transactions=1)
    handler = DeleteAccountHandler(uow_factory=store.uow)
    assert await handler.handle(delete(doomed.id)) == Success(None)
    assert list(store.accounts) == [kept.id]
    assert [t.account_id for t in store.transactions.values()] == [kept.id]
    assert store.balance_snapshots == {}
    [event] = store.events_of(AccountDeleted)
    assert isinstance(event, AccountDeleted)
    assert (event.user_id, event.account_id) == (OWNER, doomed.id)
    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.resource_type, entry.resource_id) == (
        AuditAction.ACCOUNT_DELETED,
        AuditOutcome.SUCCEEDED,
        ResourceType.ACCOUNT,
        doomed.id,
    )
    assert entry.metadata == {"account": MASKED}
    assert NUMBER not in repr(entry)


async def test_another_users_account_is_not_found_and_stays(store: FakeStore) -> None:
    account = await seed_account(store, seed_connection(store, user_id=STRANGER), transactions=1)
    handler = DeleteAccountHandler(uow_factory=store.uow)
    for target in (account.id, new_id()):
        assert isinstance(error_of(await handler.handle(delete(target))), NotFoundError)
    assert (list(store.accounts), len(store.transactions), store.outbox) == ([account.id], 1, [])
    assert [(e.action, e.outcome, e.reason) for e in store.audit_log] == [
        (AuditAction.ACCOUNT_DELETED, AuditOutcome.FAILED, "not_found"),
    ] * 2


async def test_a_failed_delete_leaves_the_account(store: FakeStore) -> None:
    account = await seed_account(store, seed_connection(store), transactions=1)
    store.faults.fail_next("accounts.delete", DatabaseError("down", code="database_error"))
    handler = DeleteAccountHandler(uow_factory=store.uow)
    assert error_of(await handler.handle(delete(account.id))).code == "database_error"
    store.fail_next_commit()
    assert isinstance(error_of(await handler.handle(delete(account.id))), DatabaseError)
    assert (list(store.accounts), len(store.transactions), store.outbox) == ([account.id], 1, [])
    assert [e.outcome for e in store.audit_log] == [AuditOutcome.FAILED] * 2
