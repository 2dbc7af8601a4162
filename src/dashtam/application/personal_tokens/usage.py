"""``last_used_at`` of personal access tokens, written in batches off the request path.

Every use is noted in memory (the latest time per token) and a background task writes what is
waiting every ``interval`` seconds, in one short transaction of one UPDATE statement: a request
never waits for a write, a burst of requests with one token costs one row update, and the
write never joins the request's read-only transaction. A failed write keeps the times for the
next round; a crash loses at most the last interval's (``last_used_at`` is a hint to the owner,
not an audit record: those are written with each use's own read).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.protocols.logger import LoggerProtocol


class TokenUsage(Protocol):
    def note(self, token_id: UUID, at: datetime) -> None:
        """Remember a use; ``last_used_at`` shows it soon (never earlier than a later one)."""
        ...


class BufferedTokenUsage:
    """App-scoped: one per process; ``close`` writes what is left (before the pool closes)."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        logger: LoggerProtocol,
        interval: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        self._uow_factory = uow_factory
        self._logger = logger
        self._interval = interval
        self._max_backoff = max_backoff
        self._pending: dict[UUID, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        return len(self._pending)

    @property
    def writing(self) -> bool:
        """Whether the background writer runs (only while uses come in)."""
        return self._task is not None and not self._task.done()

    def note(self, token_id: UUID, at: datetime) -> None:
        self._keep(token_id, at)
        self._ensure_running()

    async def flush(self) -> Result[int, Error]:
        """Write every waiting time now; returns how many tokens were updated."""
        batch, self._pending = self._pending, {}
        if not batch:
            return Success(0)

        async def write(uow: UnitOfWork) -> Result[None, Error]:
            marked = await uow.personal_tokens.mark_used(batch)
            return marked if isinstance(marked, Failure) else await uow.commit()

        try:
            async with self._uow_factory() as uow:
                written = await write(uow)
        except asyncio.CancelledError:  # the writer stopped mid-write: ``close`` writes them
            self._keep_all(batch)
            raise
        if isinstance(written, Failure):
            self._keep_all(batch)  # back in line for the next round
            return written
        return Success(len(batch))

    async def close(self) -> None:
        """Stop the writer, then write what is left once (logged if it cannot be)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        flushed = await self.flush()
        if isinstance(flushed, Failure):
            self._logger.warning(
                "token_usage_lost", tokens=len(self._pending), code=flushed.error.code
            )
            self._pending.clear()

    def _keep(self, token_id: UUID, at: datetime) -> None:
        known = self._pending.get(token_id)
        if known is None or at > known:  # uses noted out of order: the latest wins
            self._pending[token_id] = at

    def _keep_all(self, batch: dict[UUID, datetime]) -> None:
        for token_id, at in batch.items():
            self._keep(token_id, at)

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._task
        # A writer of a finished loop (tests run one loop each) is gone with it.
        if task is not None and not task.done() and task.get_loop() is loop:
            return
        self._task = loop.create_task(self._run(), name="dashtam-token-usage")

    async def _run(self) -> None:
        """Write every ``interval`` while uses come in; stop when none did (``note`` restarts)."""
        delay = self._interval
        while True:
            await asyncio.sleep(delay)
            if not self._pending:
                return
            flushed = await self.flush()
            if isinstance(flushed, Failure):
                delay = min(self._max_backoff, delay * 2)
                self._logger.warning(
                    "token_usage_flush_failed", code=flushed.error.code, retry_in=delay
                )
            else:
                delay = self._interval
