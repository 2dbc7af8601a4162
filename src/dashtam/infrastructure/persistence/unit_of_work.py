"""SQL unit of work: the business change, its audit records and its outbox rows commit together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import ClassVar, Self
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.core.tracing import get_trace_id
from dashtam.domain.audit import AuditEntry
from dashtam.domain.events import DomainEvent
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.audit.signing import AuditRecordSigner
from dashtam.infrastructure.audit.sql_audit import record_on_its_own
from dashtam.infrastructure.errors import DB_ERRORS, DatabaseError, classify
from dashtam.infrastructure.persistence.boundary import transaction_failed
from dashtam.infrastructure.persistence.core_insert import RowBatch, insert_values_sync
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.outbox import OutboxEventModel
from dashtam.infrastructure.persistence.repositories.accounts import SqlAccountRepository
from dashtam.infrastructure.persistence.repositories.auth import (
    SqlLoginAttemptRepository,
    SqlRefreshTokenRepository,
    SqlSessionRepository,
)
from dashtam.infrastructure.persistence.repositories.connections import SqlConnectionRepository
from dashtam.infrastructure.persistence.repositories.dialect import bulk_inserted
from dashtam.infrastructure.persistence.repositories.holdings import SqlHoldingRepository
from dashtam.infrastructure.persistence.repositories.investment_transactions import (
    SqlInvestmentTransactionRepository,
)
from dashtam.infrastructure.persistence.repositories.personal_tokens import (
    SqlPersonalTokenRepository,
)
from dashtam.infrastructure.persistence.repositories.second_factor import (
    SqlMfaChallengeRepository,
    SqlSecondFactorRepository,
)
from dashtam.infrastructure.persistence.repositories.securities import SqlSecurityRepository
from dashtam.infrastructure.persistence.repositories.sync_state import SqlSyncStateRepository
from dashtam.infrastructure.persistence.repositories.transactions import SqlTransactionRepository
from dashtam.infrastructure.persistence.repositories.users import SqlUserRepository
from dashtam.infrastructure.persistence.repositories.webhooks import SqlWebhookRepository
from dashtam.infrastructure.persistence.repository_set import RepositorySet

CommittedEventsHook = Callable[[Sequence[UUID]], Awaitable[object]]
# A commit that COPY-inserted at least this many rows into a table refreshes its statistics.
ANALYZE_AFTER_ROWS = 10_000


def _insert_and_commit(session: Session, batches: Sequence[RowBatch]) -> None:
    """Flush the use case's own rows, insert its audit and outbox rows, commit: one hop into
    SQLAlchemy's greenlet instead of one per step. The audit and outbox rows are written once
    and never read back here, so Core inserts skip the ORM (on PostgreSQL one statement for
    both tables, else a round trip per table)."""
    session.flush()
    insert_values_sync(session, batches)
    session.commit()


class SqlUnitOfWork(RepositorySet):
    """One session, one transaction, rolled back unless ``commit()`` succeeded."""

    REPOSITORIES: ClassVar[Mapping[str, Callable[..., object]]] = {
        "users": SqlUserRepository,
        "sessions": SqlSessionRepository,
        "refresh_tokens": SqlRefreshTokenRepository,
        "login_attempts": SqlLoginAttemptRepository,
        "personal_tokens": SqlPersonalTokenRepository,
        "connections": SqlConnectionRepository,
        "sync_state": SqlSyncStateRepository,
        "accounts": SqlAccountRepository,
        "transactions": SqlTransactionRepository,
        "securities": SqlSecurityRepository,
        "holdings": SqlHoldingRepository,
        "investment_transactions": SqlInvestmentTransactionRepository,
        "webhooks": SqlWebhookRepository,
        "second_factors": SqlSecondFactorRepository,
        "mfa_challenges": SqlMfaChallengeRepository,
    }

    users: SqlUserRepository
    sessions: SqlSessionRepository
    refresh_tokens: SqlRefreshTokenRepository
    login_attempts: SqlLoginAttemptRepository
    personal_tokens: SqlPersonalTokenRepository
    connections: SqlConnectionRepository
    sync_state: SqlSyncStateRepository
    accounts: SqlAccountRepository
    transactions: SqlTransactionRepository
    securities: SqlSecurityRepository
    holdings: SqlHoldingRepository
    investment_transactions: SqlInvestmentTransactionRepository
    webhooks: SqlWebhookRepository
    second_factors: SqlSecondFactorRepository
    mfa_challenges: SqlMfaChallengeRepository

    def __init__(
        self,
        *,
        database: Database,
        logger: LoggerProtocol,
        signer: AuditRecordSigner,
        on_committed: CommittedEventsHook | None = None,
    ) -> None:
        self._database = database
        self._logger = logger
        self._signer = signer
        self._on_committed = on_committed
        self._session: AsyncSession | None = None
        self._events: list[DomainEvent] = []
        self._audit_entries: list[AuditEntry] = []
        self._committed_event_ids: list[UUID] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._use_session(self._database.session_factory())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            # A no-op after commit; discards anything uncommitted. Never raises: on a dead
            # connection the error already on its way (or the result returned) is what counts.
            await self._database.rollback_quietly(session)
        finally:
            await self._database.close_quietly(session)
            self._use_session(None)
        delivered, self._committed_event_ids = self._committed_event_ids, []
        if delivered and self._on_committed is not None and exc_type is None:
            await self._on_committed(delivered)

    def raise_event(self, event: DomainEvent) -> None:
        self._events.append(event)

    def audit(self, entry: AuditEntry) -> None:
        self._audit_entries.append(entry)

    async def commit(self) -> Result[None, Error]:
        session = self.session
        trace_id = get_trace_id()
        if transaction_failed(session):
            await self._database.rollback_quietly(session)
            return self._commit_failed(
                DatabaseError("a statement of this unit of work failed; nothing was committed")
            )
        try:
            batches = [
                (AuditLogModel, [self._signer.values(entry) for entry in self._audit_entries]),
                (
                    OutboxEventModel,
                    [OutboxEventModel.values_of(e, trace_id=trace_id) for e in self._events],
                ),
            ]
            await session.run_sync(_insert_and_commit, batches)
        except DB_ERRORS as exc:
            bulk_inserted(session).clear()
            await self._database.rollback_quietly(session)
            return self._commit_failed(classify(exc))
        await self._refresh_statistics(session)
        self._committed_event_ids.extend(event.event_id for event in self._events)
        self._logger.debug(
            "uow_committed",
            events=len(self._events),
            audit_records=len(self._audit_entries),
            trace_id=trace_id,
        )
        self._events.clear()
        self._audit_entries.clear()
        return Success(None)

    async def _refresh_statistics(self, session: AsyncSession) -> None:
        """ANALYZE a table this commit grew by many rows (PostgreSQL; best effort).

        Autovacuum analyzes within a minute or so; until then the planner plans against the
        old row count, and a statement right after a large import (the same file again, a
        lookup by key) can pick a scan of what it thinks is a small table.
        """
        grown = bulk_inserted(session)
        tables = [name for name, rows in grown.items() if rows >= ANALYZE_AFTER_ROWS]
        grown.clear()
        if tables:
            await self._database.analyze_quietly(session, tables)

    async def rollback(self) -> None:
        self._events.clear()
        self._audit_entries.clear()
        bulk_inserted(self.session).clear()  # those rows are gone with the transaction
        await self._database.rollback_quietly(self.session)

    async def audit_after_rollback(self, entry: AuditEntry) -> Result[None, Error]:
        # Roll back first: the failed work must not commit, and on SQLite its write lock
        # would block the short transaction below.
        await self.rollback()
        return await record_on_its_own(
            entry, database=self._database, signer=self._signer, logger=self._logger
        )

    def _commit_failed(self, error: Error) -> Failure[Error]:
        self._events.clear()
        self._audit_entries.clear()
        self._logger.warning("uow_commit_failed", code=error.code, trace_id=get_trace_id())
        return Failure(error)
