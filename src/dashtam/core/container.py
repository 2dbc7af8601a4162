"""Composition root: the only place that knows which adapter implements which port.

The API and the CLI ask the container for handlers; tests build a ``Container`` with their own
``Settings`` (or subclass it to swap an adapter) instead of patching module internals.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from dashtam.core.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from dashtam.application.unit_of_work import UnitOfWork
    from dashtam.application.users.handlers import AdminDeleteUserHandler, RegisterUserHandler
    from dashtam.domain.protocols.logger import LoggerProtocol
    from dashtam.domain.protocols.password_hasher import PasswordHasher
    from dashtam.infrastructure.events.relay import OutboxRelay
    from dashtam.infrastructure.persistence.database import Database


class Container:
    """Builds and caches the app-scoped objects; hands out request-scoped ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def logger(self, name: str = "dashtam") -> LoggerProtocol:
        from dashtam.infrastructure.logging.setup import get_logger

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
        )

    @cached_property
    def password_hasher(self) -> PasswordHasher:
        from dashtam.infrastructure.security.password_hasher import Argon2PasswordHasher

        return Argon2PasswordHasher()

    @cached_property
    def event_bus(self) -> OutboxRelay:
        from dashtam.infrastructure.events.relay import OutboxRelay
        from dashtam.infrastructure.events.subscribers import LoggingSubscriber

        return OutboxRelay(
            database=self.database,
            logger=self.logger("dashtam.events"),
            subscribers=[LoggingSubscriber(logger=self.logger("dashtam.events"))],
        )

    def unit_of_work(self) -> UnitOfWork:
        from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork

        return SqlUnitOfWork(
            database=self.database,
            logger=self.logger("dashtam.uow"),
            on_committed=self.event_bus.deliver,
        )

    def register_user_handler(self) -> RegisterUserHandler:
        from dashtam.application.users.handlers import RegisterUserHandler

        return RegisterUserHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            logger=self.logger("dashtam.users"),
        )

    def admin_delete_user_handler(self) -> AdminDeleteUserHandler:
        from dashtam.application.users.handlers import AdminDeleteUserHandler

        return AdminDeleteUserHandler(
            uow_factory=self.unit_of_work, logger=self.logger("dashtam.users")
        )

    async def aclose(self) -> None:
        """Release app-scoped resources (the connection pool)."""
        if "database" in self.__dict__:
            await self.database.close()
            del self.__dict__["database"]
        self.__dict__.pop("event_bus", None)


@lru_cache
def get_container() -> Container:
    """The process-wide container, built from the environment."""
    return Container(get_settings())


def get_database() -> Database:
    """App-scoped database manager (cached with the container)."""
    return get_container().database


async def get_db_session() -> AsyncIterator[AsyncSession]:
    """Request-scoped session: commits on success, rolls back on exception, always closes."""
    async with get_database().get_session() as session:
        yield session
