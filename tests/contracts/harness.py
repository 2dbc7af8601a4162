"""Give a contract suite an adapter, and a way to read back what it wrote from a fresh start."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.infrastructure.persistence.database import Database

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Harness(Protocol[T_co]):
    @property
    def adapter(self) -> T_co: ...

    async def reopen(self) -> T_co:
        """Commit what was written; return an adapter that starts from stored state only."""
        ...

    async def discard(self) -> T_co:
        """Roll back what was written; return an adapter that starts from stored state only."""
        ...


class SqlSessionHarness(Generic[T]):
    """An adapter over one ``database.get_session()``; ``reopen`` commits and opens another."""

    def __init__(self, database: Database, build: Callable[[AsyncSession], T]) -> None:
        self._database = database
        self._build = build
        self._stack = AsyncExitStack()
        self._session: AsyncSession | None = None
        self._adapter: T | None = None

    @property
    def adapter(self) -> T:
        assert self._adapter is not None, "harness not opened"
        return self._adapter

    async def open(self) -> T:
        self._session = await self._stack.enter_async_context(self._database.get_session())
        self._adapter = self._build(self._session)
        return self._adapter

    async def reopen(self) -> T:
        await self._stack.aclose()  # get_session() commits on a clean exit
        self._stack = AsyncExitStack()
        return await self.open()

    async def discard(self) -> T:
        assert self._session is not None
        await self._session.rollback()
        return await self.reopen()

    async def close(self) -> None:
        # A contract case may leave a failed transaction behind; never commit at teardown.
        if self._session is not None:
            await self._session.rollback()
        await self._stack.aclose()
