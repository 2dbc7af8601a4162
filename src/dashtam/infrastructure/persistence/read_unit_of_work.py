"""Read-only unit of work: a transaction that takes no write lock and commits nothing.

On SQLite it begins DEFERRED (see ``_configure_sqlite``), so a reader never queues behind a
writer's ``BEGIN IMMEDIATE``; on PostgreSQL it is ``READ ONLY``, so a write slipped into a
read fails loudly instead of committing.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.core.tracing import get_trace_id
from dashtam.domain.audit import AuditEntry
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.audit.signing import AuditRecordSigner
from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.persistence.database import READ_ONLY_OPTION, Database
from dashtam.infrastructure.persistence.repositories.auth import SqlSessionRepository
from dashtam.infrastructure.persistence.repositories.finance import (
    SqlAccountRepository,
    SqlConnectionRepository,
    SqlTransactionRepository,
)
from dashtam.infrastructure.persistence.repositories.users import SqlUserRepository


def read_session_factory(database: Database) -> async_sessionmaker[AsyncSession]:
    """Sessions on the database's own pool whose transactions are read-only."""
    options: dict[str, object] = {READ_ONLY_OPTION: True}
    if not database.is_sqlite:
        options["postgresql_readonly"] = True
    return async_sessionmaker(
        database.engine.execution_options(**options),
        class_=AsyncSession,
        expire_on_commit=False,
        autoflush=False,
    )


class SqlReadUnitOfWork:
    """One read-only session; a refusal worth auditing is written in a short write of its own."""

    users: SqlUserRepository
    sessions: SqlSessionRepository
    connections: SqlConnectionRepository
    accounts: SqlAccountRepository
    transactions: SqlTransactionRepository

    def __init__(
        self,
        *,
        database: Database,
        sessions: async_sessionmaker[AsyncSession],
        signer: AuditRecordSigner,
        logger: LoggerProtocol,
    ) -> None:
        self._database = database
        self._session_factory = sessions
        self._signer = signer
        self._logger = logger
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._session_factory()
        self.users = SqlUserRepository(session=self._session)
        self.sessions = SqlSessionRepository(session=self._session)
        self.connections = SqlConnectionRepository(session=self._session)
        self.accounts = SqlAccountRepository(session=self._session)
        self.transactions = SqlTransactionRepository(session=self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._end()

    async def record_failure(self, entry: AuditEntry) -> Result[None, Error]:
        # The read ends first: on a PostgreSQL pool it would hold a second connection meanwhile.
        await self._database.rollback_quietly(self.session)
        try:
            async with self._database.transaction() as session:
                recorded = await SqlAuditTrail(session=session, signer=self._signer).record(entry)
                if isinstance(recorded, Failure):
                    raise _AuditWriteError(recorded.error)  # rolls the transaction back
        except _AuditWriteError as exc:
            return self._lost(exc.error, entry, error_type=type(exc.error).__name__)
        except DB_ERRORS as exc:
            return self._lost(classify(exc), entry, error_type=type(exc).__name__)
        return Success(None)

    async def _end(self) -> None:
        session = self.session
        try:
            # Nothing to keep: ending the read transaction releases its snapshot.
            await self._database.rollback_quietly(session)
        finally:
            await self._database.close_quietly(session)
            self._session = None

    def _lost(self, error: Error, entry: AuditEntry, *, error_type: str) -> Failure[Error]:
        # Losing a FAILED record must be loud: it is the trail of an attempted access.
        self._logger.error(
            "audit_failure_record_lost",
            code=error.code,
            error_type=error_type,
            action=entry.action.value,
            outcome=entry.outcome.value,
            trace_id=get_trace_id(),
        )
        return Failure(error)


class _AuditWriteError(Exception):
    def __init__(self, error: Error) -> None:
        super().__init__(error.code)
        self.error = error
