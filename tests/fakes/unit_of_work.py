"""In-memory unit of work over shared "tables", with the commit semantics of SqlUnitOfWork."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from dashtam.domain.events import DomainEvent
from dashtam.domain.investments.entities import (
    Holding,
    InvestmentBalance,
    InvestmentTransaction,
    Security,
)
from dashtam.domain.personal_tokens.entities import PersonalAccessToken
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.users.entities import User
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes.audit import FakeAuditTrail, as_stored
from tests.fakes.auth import (
    FakeLoginAttemptRepository,
    FakeRefreshTokenRepository,
    FakeSessionRepository,
)
from tests.fakes.faults import Faults
from tests.fakes.finance import (
    FakeAccountRepository,
    FakeConnectionRepository,
    FakeTransactionRepository,
)
from tests.fakes.finance_tables import FinanceTables
from tests.fakes.investment_tables import InvestmentTables
from tests.fakes.investment_transactions import FakeInvestmentTransactionRepository
from tests.fakes.investments import FakeHoldingRepository, FakeSecurityRepository
from tests.fakes.logger import RecordingLogger
from tests.fakes.personal_tokens import FakePersonalTokenRepository
from tests.fakes.second_factor import FakeMfaChallengeRepository, FakeSecondFactorRepository
from tests.fakes.sync_state import FakeSyncStateRepository, SyncRow
from tests.fakes.users import FakeUserRepository

CommittedEventsHook = Callable[[Sequence[UUID]], Awaitable[object]]


@dataclass
class FakeStore:
    """The committed state every fake unit of work shares: the in-memory "database"."""

    users: dict[UUID, User] = field(default_factory=dict)
    sessions: dict[UUID, AuthSession] = field(default_factory=dict)
    refresh_tokens: dict[UUID, RefreshToken] = field(default_factory=dict)
    login_attempts: dict[UUID, LoginAttempt] = field(default_factory=dict)
    personal_tokens: dict[UUID, PersonalAccessToken] = field(default_factory=dict)
    connections: dict[UUID, ProviderConnection] = field(default_factory=dict)
    accounts: dict[UUID, Account] = field(default_factory=dict)
    balance_snapshots: dict[UUID, BalanceSnapshot] = field(default_factory=dict)
    transactions: dict[UUID, Transaction] = field(default_factory=dict)
    securities: dict[UUID, Security] = field(default_factory=dict)
    holdings: dict[UUID, Holding] = field(default_factory=dict)
    investment_transactions: dict[UUID, InvestmentTransaction] = field(default_factory=dict)
    investment_balances: dict[UUID, InvestmentBalance] = field(default_factory=dict)
    sync_state: dict[UUID, SyncRow] = field(default_factory=dict)
    totp_factors: dict[UUID, TotpFactor] = field(default_factory=dict)
    recovery_codes: dict[UUID, RecoveryCode] = field(default_factory=dict)
    mfa_challenges: dict[UUID, MfaChallenge] = field(default_factory=dict)
    audit_log: list[AuditEntry] = field(default_factory=list)
    outbox: list[DomainEvent] = field(default_factory=list)
    delivered: list[UUID] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    logger: RecordingLogger = field(default_factory=RecordingLogger)
    commits: int = 0
    _commit_failures: deque[Error] = field(default_factory=deque)

    def fail_next_commit(self, error: Error | None = None) -> None:
        """Make the next ``commit()`` roll back and return ``Failure(error)``."""
        self._commit_failures.append(error or DatabaseError("database operation failed"))

    def take_commit_failure(self) -> Error | None:
        return self._commit_failures.popleft() if self._commit_failures else None

    def seed(self, *users: User) -> None:
        """Insert already-committed users (test setup, bypassing any unit of work)."""
        for user in users:
            self.users[user.id] = user

    def seed_sessions(self, *sessions: AuthSession) -> None:
        for session in sessions:
            self.sessions[session.id] = session

    def repositories(self) -> FakeRepositories:
        """Fresh repositories over the committed tables (one fake transaction)."""
        finance = FinanceTables(
            connections=self.connections,
            accounts=self.accounts,
            snapshots=self.balance_snapshots,
            transactions=self.transactions,
            faults=self.faults,
        )
        investments = InvestmentTables(
            finance=finance,
            securities=self.securities,
            holdings=self.holdings,
            transactions=self.investment_transactions,
            balances=self.investment_balances,
        )
        users = FakeUserRepository(table=self.users, faults=self.faults)
        return FakeRepositories(
            users=users,
            sessions=FakeSessionRepository(table=self.sessions, faults=self.faults, users=users),
            refresh_tokens=FakeRefreshTokenRepository(
                table=self.refresh_tokens, faults=self.faults
            ),
            login_attempts=FakeLoginAttemptRepository(
                table=self.login_attempts, faults=self.faults
            ),
            personal_tokens=FakePersonalTokenRepository(
                table=self.personal_tokens, faults=self.faults, users=users
            ),
            connections=FakeConnectionRepository(tables=finance),
            sync_state=FakeSyncStateRepository(table=self.sync_state, finance=finance),
            accounts=FakeAccountRepository(tables=finance),
            transactions=FakeTransactionRepository(tables=finance),
            securities=FakeSecurityRepository(tables=investments),
            holdings=FakeHoldingRepository(tables=investments),
            investment_transactions=FakeInvestmentTransactionRepository(tables=investments),
            second_factors=FakeSecondFactorRepository(
                factors=self.totp_factors, codes=self.recovery_codes, faults=self.faults
            ),
            mfa_challenges=FakeMfaChallengeRepository(
                table=self.mfa_challenges, faults=self.faults
            ),
        )

    def uow(self) -> FakeUnitOfWork:
        """A ``UnitOfWorkFactory``: pass ``store.uow`` where a handler wants one."""
        return FakeUnitOfWork(store=self)

    def audit_entries(
        self, *, action: AuditAction | None = None, outcome: AuditOutcome | None = None
    ) -> list[AuditEntry]:
        return [
            entry
            for entry in self.audit_log
            if (action is None or entry.action == action)
            and (outcome is None or entry.outcome == outcome)
        ]

    def events_of(self, event_class: type[DomainEvent]) -> list[DomainEvent]:
        return [event for event in self.outbox if isinstance(event, event_class)]


class _Staging(Protocol):
    def check_staged(self) -> Error | None: ...

    def apply_staged(self) -> None: ...

    def discard_staged(self) -> None: ...


@dataclass
class FakeRepositories:
    """Every repository of one fake transaction; staged writes apply or discard together."""

    users: FakeUserRepository
    sessions: FakeSessionRepository
    refresh_tokens: FakeRefreshTokenRepository
    login_attempts: FakeLoginAttemptRepository
    personal_tokens: FakePersonalTokenRepository
    connections: FakeConnectionRepository
    sync_state: FakeSyncStateRepository
    accounts: FakeAccountRepository
    transactions: FakeTransactionRepository
    securities: FakeSecurityRepository
    holdings: FakeHoldingRepository
    investment_transactions: FakeInvestmentTransactionRepository
    second_factors: FakeSecondFactorRepository
    mfa_challenges: FakeMfaChallengeRepository

    def check_staged(self) -> Error | None:
        return next(
            (
                error
                for repository in self._all()
                if (error := repository.check_staged()) is not None
            ),
            None,
        )

    def apply_staged(self) -> None:
        for repository in self._all():
            repository.apply_staged()

    def discard_staged(self) -> None:
        for repository in self._all():
            repository.discard_staged()

    def _all(self) -> tuple[_Staging, ...]:
        # The three finance repositories share one FinanceTables: it takes part once, and so
        # do the investment tables, after it (their cascade reads its committed accounts).
        return (
            self.users,
            self.sessions,
            self.refresh_tokens,
            self.login_attempts,
            self.personal_tokens,
            self.connections.tables,
            self.sync_state,
            self.securities.tables,
            self.second_factors,
            self.mfa_challenges,
        )


class FakeUnitOfWork:
    """Stages repository writes, audit entries and events; ``commit`` publishes all or nothing."""

    def __init__(self, *, store: FakeStore, on_committed: CommittedEventsHook | None = None):
        self._store = store
        self._on_committed = on_committed
        self._repositories: FakeRepositories | None = None
        self._events: list[DomainEvent] = []
        self._audit_entries: list[AuditEntry] = []
        self._committed_event_ids: list[UUID] = []

    @property
    def repositories(self) -> FakeRepositories:
        if self._repositories is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._repositories

    @property
    def users(self) -> FakeUserRepository:
        return self.repositories.users

    @property
    def sessions(self) -> FakeSessionRepository:
        return self.repositories.sessions

    @property
    def refresh_tokens(self) -> FakeRefreshTokenRepository:
        return self.repositories.refresh_tokens

    @property
    def login_attempts(self) -> FakeLoginAttemptRepository:
        return self.repositories.login_attempts

    @property
    def personal_tokens(self) -> FakePersonalTokenRepository:
        return self.repositories.personal_tokens

    @property
    def connections(self) -> FakeConnectionRepository:
        return self.repositories.connections

    @property
    def sync_state(self) -> FakeSyncStateRepository:
        return self.repositories.sync_state

    @property
    def accounts(self) -> FakeAccountRepository:
        return self.repositories.accounts

    @property
    def transactions(self) -> FakeTransactionRepository:
        return self.repositories.transactions

    @property
    def securities(self) -> FakeSecurityRepository:
        return self.repositories.securities

    @property
    def holdings(self) -> FakeHoldingRepository:
        return self.repositories.holdings

    @property
    def investment_transactions(self) -> FakeInvestmentTransactionRepository:
        return self.repositories.investment_transactions

    @property
    def second_factors(self) -> FakeSecondFactorRepository:
        return self.repositories.second_factors

    @property
    def mfa_challenges(self) -> FakeMfaChallengeRepository:
        return self.repositories.mfa_challenges

    async def __aenter__(self) -> Self:
        self._repositories = self._store.repositories()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._discard()
        self._repositories = None
        delivered, self._committed_event_ids = self._committed_event_ids, []
        if delivered and exc_type is None:
            self._store.delivered.extend(delivered)
            if self._on_committed is not None:
                await self._on_committed(delivered)

    def raise_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(self, entry: AuditEntry) -> None:
        self._audit_entries.append(entry)

    async def commit(self) -> Result[None, Error]:
        repositories = self.repositories
        error = (
            self._store.take_commit_failure()
            or repositories.check_staged()
            or self._check_audit_entries()
            or self._check_events()
        )
        if error is not None:
            self._discard()
            self._store.logger.warning("uow_commit_failed", code=error.code)
            return Failure(error)
        # Everything checked: apply without awaiting, so no other task sees half a commit.
        repositories.apply_staged()
        self._store.audit_log.extend(as_stored(entry) for entry in self._audit_entries)
        self._store.outbox.extend(self._events)
        self._store.commits += 1
        self._committed_event_ids.extend(event.event_id for event in self._events)
        self._events.clear()
        self._audit_entries.clear()
        return Success(None)

    async def rollback(self) -> None:
        self._discard()

    async def audit_after_rollback(self, entry: AuditEntry) -> Result[None, Error]:
        await self.rollback()
        trail = FakeAuditTrail(entries=self._store.audit_log, faults=self._store.faults)
        recorded = await trail.record(entry)
        if isinstance(recorded, Failure):
            self._store.logger.error(
                "audit_failure_record_lost", code=recorded.error.code, action=entry.action.value
            )
        return recorded

    def _check_audit_entries(self) -> Error | None:
        taken = {entry.id for entry in self._store.audit_log}
        for entry in self._audit_entries:
            fault = self._store.faults.take("record")
            if fault is not None:
                return fault
            if entry.id in taken:
                return FakeAuditTrail.duplicate()
            taken.add(entry.id)
            try:
                as_stored(entry)
            except (TypeError, ValueError):
                return DatabaseError("database operation failed")
        return None

    def _check_events(self) -> Error | None:
        # The outbox's primary key is the event id: an event cannot be queued twice.
        taken = {event.event_id for event in self._store.outbox}
        for event in self._events:
            if event.event_id in taken:
                return FakeAuditTrail.duplicate()
            taken.add(event.event_id)
        return None

    def _discard(self) -> None:
        self._events.clear()
        self._audit_entries.clear()
        if self._repositories is not None:
            self._repositories.discard_staged()
