"""The sync use case with fakes: its transaction, its failure trace, its claim and budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from dashtam.application.live.commands import SyncConnection
from dashtam.application.live.policy import SyncPolicy
from dashtam.application.live.sync import SyncConnectionHandler
from dashtam.core.errors import Error, InfrastructureError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditOutcome
from dashtam.domain.protocols.credentials import CredentialsUnreadableError
from dashtam.domain.providers.entities import ConnectionStatus, ProviderConnection, ProviderSlug
from dashtam.domain.providers.events import SyncCompleted, SyncFailed
from dashtam.domain.providers.live import (
    AccessGrant,
    SourceAccount,
    SourceInstitution,
    SourceSnapshot,
    SourceTransaction,
)
from tests.fakes.logger import RecordingLogger
from tests.fakes.sync_state import SyncRow
from tests.fakes.unit_of_work import FakeStore

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
ACCESS = "https://user:pass@bridge.example/simplefin"


class _PlainCipher:
    """Seals by prefixing the context: enough to test that the right context is asked for."""

    current_key_id = "k1"
    key_ids = ("k1",)

    def seal(self, plaintext: str, *, context: str) -> str:
        return f"{context}|{plaintext}"

    def open(self, sealed: str, *, context: str) -> Result[str, Error]:
        bound, _, plaintext = sealed.partition("|")
        if bound != context:
            return Failure(CredentialsUnreadableError("unreadable", details={"reason": "rejected"}))
        return Success(plaintext)

    def needs_rotation(self, sealed: str) -> bool:
        return False

    def reseal(self, sealed: str, *, context: str) -> Result[str, Error]:
        return Success(sealed)


@dataclass
class _Source:
    """A ``LiveSource`` that answers what the test says and remembers what it was asked."""

    answers: list[Result[SourceSnapshot, Error]] = field(default_factory=list)
    asked: list[tuple[datetime, datetime]] = field(default_factory=list)

    async def claim(self, setup_token: str) -> Result[AccessGrant, Error]:
        raise AssertionError("a sync never claims")

    async def fetch(
        self, access: AccessGrant, *, start: datetime, end: datetime, pending: bool = True
    ) -> Result[SourceSnapshot, Error]:
        assert access.access_url.reveal() == ACCESS
        self.asked.append((start, end))
        return self.answers.pop(0) if self.answers else Success(_snapshot())


def _snapshot(*ids: str) -> SourceSnapshot:
    transactions = tuple(
        SourceTransaction(
            id=ident, amount=Decimal("-1.00"), description="Shop", posted=NOW - timedelta(days=1)
        )
        for ident in ids or ("T1", "T2")
    )
    account = SourceAccount(
        id="A1",
        name="Checking",
        currency="USD",
        balance=Decimal("5.00"),
        balance_date=NOW,
        institution=SourceInstitution(name="Bank"),
        transactions=transactions,
    )
    return SourceSnapshot(accounts=(account,))


def _setup(
    store: FakeStore, *, sealed_for: str | None = None, **fields: object
) -> ProviderConnection:
    connection = ProviderConnection(
        user_id=new_id(),
        provider=ProviderSlug.SIMPLEFIN,
        label="Bridge",
        **fields,  # type: ignore[arg-type]
    )
    store.connections[connection.id] = connection
    context = sealed_for or f"connection:{connection.id}"
    store.sync_state[connection.id] = SyncRow(credentials=f"{context}|{ACCESS}")
    return connection


def _handler(store: FakeStore, source: _Source, **policy: object) -> SyncConnectionHandler:
    return SyncConnectionHandler(
        uow_factory=store.uow,
        source=source,
        cipher=_PlainCipher(),
        logger=RecordingLogger(),
        policy=SyncPolicy(**policy),  # type: ignore[arg-type]
        clock=lambda: NOW,
    )


def _command(connection: ProviderConnection) -> SyncConnection:
    return SyncConnection(
        connection_id=connection.id, user_id=connection.user_id, context=AuditContext()
    )


async def test_a_sync_writes_in_one_transaction_and_schedules_the_next() -> None:
    store, source = FakeStore(), _Source()
    connection = _setup(store)
    result = await _handler(store, source).handle(_command(connection))
    assert isinstance(result, Success), result
    assert result.value.transactions_new == 2
    assert len(store.transactions) == 2
    stored = store.connections[connection.id]
    assert stored.last_sync_at == NOW
    assert stored.next_sync_at == NOW + timedelta(hours=4)
    assert [type(e) for e in store.events_of(SyncCompleted)] == [SyncCompleted]
    assert store.audit_entries(action=AuditAction.SYNC_SUCCEEDED)
    assert source.asked == [(NOW - timedelta(days=90), NOW)]
    assert store.sync_state[connection.id].claimed_by is None  # released
    assert store.sync_state[connection.id].requests_count == 1


async def test_a_failed_fetch_keeps_only_its_trace() -> None:
    store = FakeStore()
    source = _Source(answers=[Failure(InfrastructureError("down", code="bridge_unavailable"))])
    connection = _setup(store)
    result = await _handler(store, source).handle(_command(connection))
    assert isinstance(result, Failure)
    assert result.error.code == "bridge_unavailable"
    assert store.transactions == {}
    stored = store.connections[connection.id]
    assert stored.sync_failures == 1
    assert stored.next_sync_at == NOW + timedelta(minutes=5)
    assert store.events_of(SyncFailed)
    (entry,) = store.audit_entries(action=AuditAction.SYNC_FAILED)
    assert entry.outcome is AuditOutcome.FAILED


async def test_a_commit_that_fails_leaves_nothing_but_the_failure_record() -> None:
    store, source = FakeStore(), _Source()
    connection = _setup(store)
    handler = _handler(store, source)
    # The claim and the budget commit; the sync's own commit is the third.
    original = store.take_commit_failure
    commits: list[int] = []

    def third_fails() -> Error | None:
        commits.append(1)
        if len(commits) == 3:
            return InfrastructureError("disk full", code="storage_full")
        return original()

    store.take_commit_failure = third_fails  # type: ignore[method-assign]
    result = await handler.handle(_command(connection))
    assert isinstance(result, Failure)
    assert store.transactions == {}
    assert store.connections[connection.id].last_sync_at is None
    assert store.audit_entries(action=AuditAction.SYNC_FAILED)
    assert store.sync_state[connection.id].claimed_by is None


async def test_a_spent_budget_asks_the_source_nothing() -> None:
    store, source = FakeStore(), _Source()
    connection = _setup(store)
    store.sync_state[connection.id] = SyncRow(
        credentials=f"connection:{connection.id}|{ACCESS}",
        requests_day=NOW.date(),
        requests_count=24,
    )
    result = await _handler(store, source).handle(_command(connection))
    assert isinstance(result, Failure)
    assert result.error.code == "sync_limit_reached"
    assert source.asked == []
    assert store.connections[connection.id].next_sync_at == datetime(2026, 3, 16, tzinfo=UTC)


async def test_a_connection_claimed_elsewhere_is_not_synced() -> None:
    store, source = FakeStore(), _Source()
    connection = _setup(store)
    store.sync_state[connection.id] = SyncRow(
        credentials=f"connection:{connection.id}|{ACCESS}",
        claimed_by="worker:other",
        claimed_until=datetime.now(UTC) + timedelta(minutes=5),
    )
    result = await _handler(store, source).handle(_command(connection))
    assert isinstance(result, Failure)
    assert result.error.code == "sync_in_progress"
    assert source.asked == []
    assert store.sync_state[connection.id].claimed_by == "worker:other"


async def test_an_access_bound_to_another_row_needs_the_user() -> None:
    store, source = FakeStore(), _Source()
    connection = _setup(store, sealed_for="connection:someone-else")
    result = await _handler(store, source).handle(_command(connection))
    assert isinstance(result, Failure)
    assert result.error.code == "credentials_unreadable"
    assert source.asked == []
    assert store.connections[connection.id].status is ConnectionStatus.NEEDS_ATTENTION


async def test_windows_cover_a_long_first_sync_in_order() -> None:
    store, source = FakeStore(), _Source()
    connection = _setup(store)
    result = await _handler(store, source, first_days=200).handle(_command(connection))
    assert isinstance(result, Success)
    assert result.value.requests == 3
    starts: Sequence[datetime] = [start for start, _ in source.asked]
    assert starts == sorted(starts)
    assert source.asked[-1][1] == NOW
