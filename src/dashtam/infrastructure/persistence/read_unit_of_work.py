"""Read-only unit of work: it takes no write lock and commits nothing.

On SQLite it is a transaction begun DEFERRED (see ``_configure_sqlite``), so a reader never
queues behind a writer's ``BEGIN IMMEDIATE``; on PostgreSQL its connection is read-only and
autocommit (no ``BEGIN``/``ROLLBACK`` round trips), so a write slipped into a read fails loudly
instead of committing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import TracebackType
from typing import ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.audit import AuditEntry
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.audit.signing import AuditRecordSigner
from dashtam.infrastructure.audit.sql_audit import record_on_its_own
from dashtam.infrastructure.persistence.boundary import transaction_failed
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.read_scope import (
    give_back_shared_session,
    lend_shared_session,
)
from dashtam.infrastructure.persistence.repositories.accounts import SqlAccountRepository
from dashtam.infrastructure.persistence.repositories.auth import SqlSessionRepository
from dashtam.infrastructure.persistence.repositories.connections import SqlConnectionRepository
from dashtam.infrastructure.persistence.repositories.holdings import SqlHoldingRepository
from dashtam.infrastructure.persistence.repositories.investment_transactions import (
    SqlInvestmentTransactionRepository,
)
from dashtam.infrastructure.persistence.repositories.personal_tokens import (
    SqlPersonalTokenRepository,
)
from dashtam.infrastructure.persistence.repositories.second_factor import SqlSecondFactorRepository
from dashtam.infrastructure.persistence.repositories.securities import SqlSecurityRepository
from dashtam.infrastructure.persistence.repositories.transaction_feed import SqlTransactionFeed
from dashtam.infrastructure.persistence.repositories.transactions import SqlTransactionRepository
from dashtam.infrastructure.persistence.repositories.users import SqlUserRepository
from dashtam.infrastructure.persistence.repositories.webhooks import SqlWebhookRepository
from dashtam.infrastructure.persistence.repository_set import RepositorySet


def read_session_factory(database: Database) -> async_sessionmaker[AsyncSession]:
    """Sessions on the database's read engine: they cannot write (see ``Database``)."""
    return async_sessionmaker(
        database.read_engine, class_=AsyncSession, expire_on_commit=False, autoflush=False
    )


class SqlReadUnitOfWork(RepositorySet):
    """One read-only session; a refusal worth auditing is written in a short write of its own."""

    REPOSITORIES: ClassVar[Mapping[str, Callable[..., object]]] = {
        "users": SqlUserRepository,
        "sessions": SqlSessionRepository,
        "personal_tokens": SqlPersonalTokenRepository,
        "connections": SqlConnectionRepository,
        "accounts": SqlAccountRepository,
        "transactions": SqlTransactionRepository,
        "feed": SqlTransactionFeed,
        "securities": SqlSecurityRepository,
        "holdings": SqlHoldingRepository,
        "investment_transactions": SqlInvestmentTransactionRepository,
        "webhooks": SqlWebhookRepository,
        "second_factors": SqlSecondFactorRepository,
    }

    users: SqlUserRepository
    sessions: SqlSessionRepository
    personal_tokens: SqlPersonalTokenRepository
    connections: SqlConnectionRepository
    accounts: SqlAccountRepository
    transactions: SqlTransactionRepository
    feed: SqlTransactionFeed
    securities: SqlSecurityRepository
    holdings: SqlHoldingRepository
    investment_transactions: SqlInvestmentTransactionRepository
    webhooks: SqlWebhookRepository
    second_factors: SqlSecondFactorRepository

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
        # Within a request's shared reads (PostgreSQL), the session its other reads use.
        shared = lend_shared_session(self._session_factory)
        self._use_session(shared or self._session_factory())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._end()

    async def audit_after_rollback(self, entry: AuditEntry) -> Result[None, Error]:
        # The read ends first: on a PostgreSQL pool it would hold a second connection meanwhile.
        await self._database.rollback_quietly(self.session)
        return await record_on_its_own(
            entry, database=self._database, signer=self._signer, logger=self._logger
        )

    async def _end(self) -> None:
        # Closing ends the read (the pool's reset on return rolls back a SQLite snapshot;
        # autocommit PostgreSQL has nothing open) and returns the connection: no separate
        # rollback step through the session.
        session = self.session
        self._use_session(None)
        # A shared session a statement failed on is not lent again: the next read gets another.
        if not await give_back_shared_session(session, spoiled=transaction_failed(session)):
            await self._database.close_quietly(session)
