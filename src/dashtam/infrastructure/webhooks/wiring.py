"""The webhook feature's part of the composition root (the container builds one ``Webhooks``)."""

from __future__ import annotations

from functools import cached_property
from typing import Protocol

from dashtam.application.reads import ReadUnitOfWork
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.application.webhooks.handlers import WebhookHandlers
from dashtam.application.webhooks.queries import WebhookQueries
from dashtam.core.config import Settings
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.webhooks.fanout import WebhookFanOut
from dashtam.infrastructure.webhooks.guard import ResolvingGuard
from dashtam.infrastructure.webhooks.sender import SenderPolicy, WebhookSender


class Parts(Protocol):
    """What the feature needs of the container (which satisfies this without knowing it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def database(self) -> Database: ...

    @property
    def credential_cipher(self) -> CredentialCipher: ...

    def unit_of_work(self) -> UnitOfWork: ...

    def read_unit_of_work(self) -> ReadUnitOfWork: ...

    def logger(self, name: str = ...) -> LoggerProtocol: ...


class Webhooks:
    """Handlers, queries, the outbox subscriber and the sender, built from the settings.

    The cipher is asked for on first use only: a malformed credentials key must not stop the
    event bus (the API refuses to start on one anyway).
    """

    def __init__(self, parts: Parts) -> None:
        self._parts = parts

    @cached_property
    def guard(self) -> ResolvingGuard:
        return ResolvingGuard(allow_private=self._parts.settings.webhooks_allow_private)

    @cached_property
    def fanout(self) -> WebhookFanOut:
        return WebhookFanOut(database=self._parts.database)

    @cached_property
    def sender(self) -> WebhookSender:
        settings = self._parts.settings
        return WebhookSender(
            database=self._parts.database,
            guard=self.guard,
            cipher=self._parts.credential_cipher,
            logger=self._parts.logger("dashtam.webhooks"),
            policy=SenderPolicy(
                timeout_seconds=settings.webhook_timeout_seconds,
                max_attempts=settings.webhook_max_attempts,
                backoff_base_seconds=settings.webhook_backoff_seconds,
                disable_after=settings.webhook_disable_after,
            ),
        )

    def handlers(self) -> WebhookHandlers:
        return WebhookHandlers(
            uow_factory=self._parts.unit_of_work,
            guard=self.guard,
            cipher=self._parts.credential_cipher,
        )

    def queries(self) -> WebhookQueries:
        return WebhookQueries(uow_factory=self._parts.read_unit_of_work)
