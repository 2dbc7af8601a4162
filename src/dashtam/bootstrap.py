"""Composition root: the only module that knows which adapter implements which port.

It sits above every layer (``core`` is the ground floor and imports none). The API and the CLI
ask the container for handlers; tests build a ``Container`` with their own ``Settings`` (or
subclass it to swap an adapter) instead of patching module internals.

Presentation may not import infrastructure (an import-linter contract says so): what the API
and the CLI need of it beyond the container is re-exported here, so this list is the whole of
that dependency, in one place.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from dashtam.bootstrap_finance import FinanceWiring
from dashtam.bootstrap_mfa import SecondFactorWiring
from dashtam.core.config import Settings, get_settings
from dashtam.infrastructure.audit.chain import AuditChain
from dashtam.infrastructure.audit.checkpoints import (
    CheckpointFileError,
    append_checkpoint,
    judge,
    read_checkpoints,
)
from dashtam.infrastructure.audit.signing import AuditKeyring
from dashtam.infrastructure.audit.verification import (
    Checkpointed,
    ExportFileError,
    VerificationReport,
    verify_export,
)
from dashtam.infrastructure.errors import (
    DB_ERRORS,
    DatabaseUnavailableError,
    StorageFullError,
    classify,
    describe_connection_error,
)
from dashtam.infrastructure.events.background import BackgroundDelivery
from dashtam.infrastructure.importers.csv_presets import PRESETS
from dashtam.infrastructure.logging.setup import configure_logging, get_logger
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import mask_url

__all__ = [
    "DB_ERRORS",
    "PRESETS",
    "AuditChain",
    "AuditKeyring",
    "BackgroundDelivery",
    "CheckpointFileError",
    "Checkpointed",
    "Container",
    "DatabaseUnavailableError",
    "ExportFileError",
    "StorageFullError",
    "VerificationReport",
    "append_checkpoint",
    "classify",
    "configure_logging",
    "describe_connection_error",
    "get_container",
    "get_logger",
    "judge",
    "mask_url",
    "migrator",
    "read_checkpoints",
    "verify_export",
]

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from dashtam.application.admin.handlers import (
        DenyAdminAccessHandler,
        ListUsersHandler,
        UpdateUserHandler,
    )
    from dashtam.application.auth.login import LoginHandler, RefreshTokensHandler
    from dashtam.application.auth.sessions import ListSessionsHandler, RevokeSessionHandler
    from dashtam.application.auth.timing import DummyPasswordCheck
    from dashtam.application.reads import ReadUnitOfWork
    from dashtam.application.unit_of_work import UnitOfWork
    from dashtam.application.users.account import ChangePasswordHandler, CloseAccountHandler
    from dashtam.application.users.handlers import AdminDeleteUserHandler, RegisterUserHandler
    from dashtam.application.users.queries import FindActiveUser
    from dashtam.bootstrap_identity import IdentityWiring
    from dashtam.bootstrap_live import LiveSync
    from dashtam.domain.protocols.credentials import CredentialCipher
    from dashtam.domain.protocols.identifiers import IdentifierDigest
    from dashtam.domain.protocols.logger import LoggerProtocol
    from dashtam.domain.protocols.password_hasher import PasswordHasher
    from dashtam.domain.protocols.tokens import TokenService
    from dashtam.domain.users.password_policy import PasswordPolicy
    from dashtam.infrastructure.audit.read_buffer import BufferedReadAuditLog
    from dashtam.infrastructure.audit.signing import AuditRecordSigner
    from dashtam.infrastructure.events.nats_broker import NatsPublisher
    from dashtam.infrastructure.events.relay import OutboxRelay
    from dashtam.infrastructure.persistence.database import Database
    from dashtam.infrastructure.webhooks.wiring import Webhooks


class Container(FinanceWiring, SecondFactorWiring):
    """Builds and caches the app-scoped objects; hands out request-scoped ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def logger(self, name: str = "dashtam") -> LoggerProtocol:
        return get_logger(name)

    @cached_property
    def database(self) -> Database:
        from dashtam.infrastructure.persistence.database import Database

        return Database(
            self.settings.database_url,
            logger=self.logger("dashtam.database"),
            echo=self.settings.db_echo,
            pool_size=self.settings.db_pool_size,
            max_overflow=self.settings.db_max_overflow,
            sqlite_busy_timeout_ms=self.settings.db_sqlite_busy_timeout_ms,
            connect_timeout=self.settings.db_connect_timeout,
            pool_timeout=self.settings.db_pool_timeout,
            statement_timeout=self.settings.db_statement_timeout,
            command_timeout=self.settings.db_command_timeout,
            idle_in_transaction_timeout=self.settings.db_idle_in_transaction_timeout,
            tcp_keepalives_idle=self.settings.db_tcp_keepalives_idle,
        )

    @cached_property
    def password_hasher(self) -> PasswordHasher:
        from dashtam.infrastructure.security.password_hasher import Argon2PasswordHasher

        return Argon2PasswordHasher()

    @cached_property
    def event_bus(self) -> OutboxRelay:
        from dashtam.infrastructure.events.relay import OutboxRelay
        from dashtam.infrastructure.events.subscribers import LoggingSubscriber

        events_log = self.logger("dashtam.events")
        broker = [self.event_broker] if self.event_broker is not None else []
        return OutboxRelay(
            database=self.database,
            logger=events_log,
            subscribers=[LoggingSubscriber(logger=events_log), self.webhooks.fanout, *broker],
        )

    @cached_property
    def event_broker(self) -> NatsPublisher | None:  # EVENT_BROKER_URL=nats://... (docs/events.md)
        if not self.settings.event_broker_url.strip():
            return None  # without a broker the NATS client is not even imported (~60 ms)
        from dashtam.infrastructure.events.nats_broker import publisher_from_settings

        return publisher_from_settings(self.settings, logger=self.logger("dashtam.events.nats"))

    @cached_property
    def webhooks(self) -> Webhooks:  # endpoints, the outbox fan-out and the sender
        from dashtam.infrastructure.webhooks.wiring import Webhooks

        return Webhooks(self)

    @cached_property
    def audit_signer(self) -> AuditRecordSigner:
        from dashtam.infrastructure.audit.signing import AuditRecordSigner

        return AuditRecordSigner(AuditKeyring.from_settings(self.settings))

    @cached_property
    def audit_chain(self) -> AuditChain:
        return AuditChain(database=self.database, signer=self.audit_signer)

    def unit_of_work(self) -> UnitOfWork:
        from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork

        return SqlUnitOfWork(
            database=self.database,
            logger=self.logger("dashtam.uow"),
            signer=self.audit_signer,
            on_committed=self.event_bus.deliver,
        )

    @cached_property
    def read_sessions(self) -> async_sessionmaker[AsyncSession]:
        from dashtam.infrastructure.persistence.read_unit_of_work import read_session_factory

        return read_session_factory(self.database)

    def shared_reads(self) -> AbstractAsyncContextManager[None]:
        """A request's read units of work share one session within it (PostgreSQL)."""
        from dashtam.infrastructure.persistence.read_scope import shared_reads

        return shared_reads(self.database, self.read_sessions)

    def read_unit_of_work(self) -> ReadUnitOfWork:
        from dashtam.infrastructure.persistence.read_unit_of_work import SqlReadUnitOfWork

        return SqlReadUnitOfWork(
            database=self.database,
            sessions=self.read_sessions,
            signer=self.audit_signer,
            logger=self.logger("dashtam.uow"),
        )

    @cached_property
    def read_audit_log(self) -> BufferedReadAuditLog:
        from dashtam.infrastructure.audit.read_buffer import BufferedReadAuditLog

        return BufferedReadAuditLog(
            database=self.database,
            signer=self.audit_signer,
            logger=self.logger("dashtam.audit"),
            capacity=self.settings.read_audit_capacity,
            flush_interval=self.settings.read_audit_flush_interval_seconds,
            max_wait=self.settings.read_audit_max_wait_seconds,
        )

    @cached_property
    def tokens(self) -> TokenService:
        from dashtam.infrastructure.security.tokens import JwtTokenService

        return JwtTokenService(secret_key=self.settings.secret_key.get_secret_value())

    @cached_property
    def identifier_digest(self) -> IdentifierDigest:
        from dashtam.infrastructure.security.identifiers import HmacIdentifierDigest

        return HmacIdentifierDigest(secret_key=self.settings.secret_key.get_secret_value())

    @cached_property
    def credential_cipher(self) -> CredentialCipher:
        """Raises ``ValueError`` naming DASHTAM_CREDENTIALS_KEY (never its value) if malformed."""
        from dashtam.infrastructure.security.credentials import AesGcmCredentialCipher

        return AesGcmCredentialCipher.from_settings(self.settings)

    @cached_property
    def identity(self) -> IdentityWiring:
        """Authentication by any token, personal access tokens (see ``bootstrap_identity``)."""
        from dashtam.bootstrap_identity import IdentityWiring

        return IdentityWiring(self)

    @cached_property
    def live(self) -> LiveSync:
        """Live sources: connecting, syncing (see ``bootstrap_live``)."""
        from dashtam.bootstrap_live import LiveSync

        return LiveSync(self)

    @cached_property
    def password_policy(self) -> PasswordPolicy:
        from dashtam.infrastructure.security.common_passwords import default_password_policy

        return default_password_policy()

    @cached_property
    def dummy_password_check(self) -> DummyPasswordCheck:
        from dashtam.application.auth.timing import DummyPasswordCheck

        return DummyPasswordCheck(self.password_hasher)

    def register_user_handler(self) -> RegisterUserHandler:
        from dashtam.application.users.handlers import RegisterUserHandler

        return RegisterUserHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            logger=self.logger("dashtam.users"),
            policy=self.password_policy,
        )

    def login_handler(self) -> LoginHandler:
        from dashtam.application.auth.login import LoginHandler

        return LoginHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            tokens=self.tokens,
            dummy_check=self.dummy_password_check,
            identifier_digest=self.identifier_digest,
            logger=self.logger("dashtam.auth"),
            mfa_secrets=self.mfa_secrets,
            password_policy=self.password_policy,
            session_policy=self.session_policy,
        )

    def refresh_tokens_handler(self) -> RefreshTokensHandler:
        from dashtam.application.auth.login import RefreshTokensHandler

        return RefreshTokensHandler(
            uow_factory=self.unit_of_work,
            tokens=self.tokens,
            logger=self.logger("dashtam.auth"),
            session_policy=self.session_policy,
        )

    def list_sessions_handler(self) -> ListSessionsHandler:
        from dashtam.application.auth.sessions import ListSessionsHandler

        return ListSessionsHandler(uow_factory=self.read_unit_of_work)

    def revoke_session_handler(self) -> RevokeSessionHandler:
        from dashtam.application.auth.sessions import RevokeSessionHandler

        return RevokeSessionHandler(
            uow_factory=self.unit_of_work, logger=self.logger("dashtam.auth")
        )

    def change_password_handler(self) -> ChangePasswordHandler:
        from dashtam.application.users.account import ChangePasswordHandler

        return ChangePasswordHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            policy=self.password_policy,
            logger=self.logger("dashtam.users"),
        )

    def close_account_handler(self) -> CloseAccountHandler:
        from dashtam.application.users.account import CloseAccountHandler

        return CloseAccountHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            logger=self.logger("dashtam.users"),
        )

    def list_users_handler(self) -> ListUsersHandler:
        from dashtam.application.admin.handlers import ListUsersHandler

        return ListUsersHandler(uow_factory=self.read_unit_of_work, audit_log=self.read_audit_log)

    def update_user_handler(self) -> UpdateUserHandler:
        from dashtam.application.admin.handlers import UpdateUserHandler

        return UpdateUserHandler(uow_factory=self.unit_of_work, logger=self.logger("dashtam.admin"))

    def deny_admin_access_handler(self) -> DenyAdminAccessHandler:
        from dashtam.application.admin.handlers import DenyAdminAccessHandler

        return DenyAdminAccessHandler(uow_factory=self.unit_of_work)

    def admin_delete_user_handler(self) -> AdminDeleteUserHandler:
        from dashtam.application.users.handlers import AdminDeleteUserHandler

        return AdminDeleteUserHandler(
            uow_factory=self.unit_of_work, logger=self.logger("dashtam.users")
        )

    def find_active_user(self) -> FindActiveUser:
        from dashtam.application.users.queries import FindActiveUser

        return FindActiveUser(uow_factory=self.read_unit_of_work)

    async def aclose(self) -> None:
        """Release app-scoped resources (the connection pool, the broker connection)."""
        if (broker := self.__dict__.pop("event_broker", None)) is not None:
            await broker.close()
        if "read_audit_log" in self.__dict__:
            # Before the pool goes: the records still waiting are written now.
            await self.__dict__.pop("read_audit_log").close()
        if (identity := self.__dict__.pop("identity", None)) is not None:
            await identity.aclose()  # likewise the last uses of personal tokens
        self.__dict__.pop("read_sessions", None)
        if "database" in self.__dict__:
            await self.database.close()
            del self.__dict__["database"]
        self.__dict__.pop("event_bus", None)
        self.__dict__.pop("webhooks", None)
        self.__dict__.pop("audit_chain", None)


@lru_cache
def get_container() -> Container:
    """The process-wide container, built from the environment."""
    return Container(get_settings())
