"""Port: one use case, one transaction (business rows, audit records and outbox rows together)."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.accounts.repository import AccountRepository
from dashtam.domain.audit import AuditEntry
from dashtam.domain.auth.repository import (
    LoginAttemptRepository,
    MfaChallengeRepository,
    RefreshTokenRepository,
    SecondFactorRepository,
    SessionRepository,
)
from dashtam.domain.events import DomainEvent
from dashtam.domain.investments.repository import (
    HoldingRepository,
    InvestmentTransactionRepository,
    SecurityRepository,
)
from dashtam.domain.personal_tokens.repository import PersonalTokenRepository
from dashtam.domain.providers.repository import ConnectionRepository
from dashtam.domain.providers.sync_state import SyncStateRepository
from dashtam.domain.transactions.repository import TransactionRepository
from dashtam.domain.users.repository import UserRepository
from dashtam.domain.webhooks.repository import WebhookRepository


class UnitOfWork(Protocol):
    """Collects changes, events and audit entries; ``commit`` makes them durable at once.

    Leaving the ``async with`` block without a successful ``commit`` rolls everything back.
    """

    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def login_attempts(self) -> LoginAttemptRepository: ...

    @property
    def personal_tokens(self) -> PersonalTokenRepository: ...

    @property
    def connections(self) -> ConnectionRepository: ...

    @property
    def sync_state(self) -> SyncStateRepository: ...

    @property
    def accounts(self) -> AccountRepository: ...

    @property
    def transactions(self) -> TransactionRepository: ...

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

    @property
    def mfa_challenges(self) -> MfaChallengeRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def raise_event(self, event: DomainEvent) -> None:
        """Queue an event: written to the outbox by ``commit``, delivered after it."""
        ...

    def audit(self, entry: AuditEntry) -> None:
        """Queue an audit entry written in the same transaction as the change."""
        ...

    async def commit(self) -> Result[None, Error]:
        """Write queued audit and outbox rows, then commit; on failure, roll back."""
        ...

    async def rollback(self) -> None: ...

    async def audit_after_rollback(self, entry: AuditEntry) -> Result[None, Error]:
        """Roll back, then record ``entry`` (FAILED/DENIED) in its own short transaction."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
