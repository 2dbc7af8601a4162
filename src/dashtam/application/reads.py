"""Ports for reads: a read-only unit of work, and the log that takes a read's audit record.

A read must not fail, nor wait, because writers hold the database: its transaction takes no
write lock, and its audit record is handed to a ``ReadAuditLog`` that writes read records in
batches, outside the read's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.accounts.repository import AccountRepository
from dashtam.domain.audit import AuditEntry
from dashtam.domain.auth.repository import SecondFactorRepository, SessionRepository
from dashtam.domain.investments.repository import (
    HoldingRepository,
    InvestmentTransactionRepository,
    SecurityRepository,
)
from dashtam.domain.personal_tokens.repository import PersonalTokenRepository
from dashtam.domain.providers.repository import ConnectionRepository
from dashtam.domain.transactions.feed import TransactionFeed
from dashtam.domain.transactions.repository import TransactionRepository
from dashtam.domain.users.repository import UserRepository
from dashtam.domain.webhooks.repository import WebhookRepository


class ReadUnitOfWork(Protocol):
    """One read-only transaction: repositories to read through, nothing to commit."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def personal_tokens(self) -> PersonalTokenRepository: ...

    @property
    def connections(self) -> ConnectionRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def transactions(self) -> TransactionRepository: ...

    @property
    def feed(self) -> TransactionFeed: ...

    @property
    def securities(self) -> SecurityRepository: ...

    @property
    def holdings(self) -> HoldingRepository: ...

    @property
    def investment_transactions(self) -> InvestmentTransactionRepository: ...

    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def second_factors(self) -> SecondFactorRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def audit_after_rollback(self, entry: AuditEntry) -> Result[None, Error]:
        """End the read, then record ``entry`` (FAILED/DENIED) in its own short transaction."""
        ...


ReadUnitOfWorkFactory = Callable[[], ReadUnitOfWork]


class ReadAuditLog(Protocol):
    """Takes the audit record of a successful read; it is written soon after, in a batch."""

    async def record(self, entry: AuditEntry) -> Result[None, Error]:
        """Accept ``entry`` (waiting while the log is full); a Failure means the read must fail."""
        ...
