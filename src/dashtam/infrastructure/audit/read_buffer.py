"""The read audit log: read records buffered in memory, written in batches of one INSERT each.

A read's record is signed and written like every audit record (``signer.values``), but not in
the read's transaction: a background flusher writes what is waiting every ``flush_interval``
seconds (sooner when half the buffer is full) in one transaction and one multi-row INSERT,
with ``synchronous_commit = off`` on PostgreSQL (a read record is worth less than a commit's
fsync on every GET).

The buffer is bounded: records taken by a flush in progress still count until it commits, so
at most ``capacity`` read records are ever only in memory, and a crash loses at most that one
batch. Writes keep their records in their own transactions and lose none. When the buffer is
full a read waits for room (back-pressure); after ``max_wait`` seconds (the database cannot
take writes) it fails with ``DatabaseUnavailableError``: a read is refused rather than left
unaudited, and its record is neither dropped nor queued without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, InfrastructureError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditEntry
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.audit.signing import AuditRecordSigner
from dashtam.infrastructure.errors import DB_ERRORS, DatabaseUnavailableError, classify
from dashtam.infrastructure.persistence.core_insert import insert_values
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.read_scope import release_shared_reads

# A flush writes at most this many records (one executemany).
MAX_CAPACITY = 2000


class BufferedReadAuditLog:
    """``ReadAuditLog`` adapter: bounded buffer, background flusher, flushed on ``close``."""

    def __init__(
        self,
        *,
        database: Database,
        signer: AuditRecordSigner,
        logger: LoggerProtocol,
        capacity: int = 500,
        flush_interval: float = 0.2,
        max_wait: float = 2.0,
        max_backoff: float = 5.0,
        stop_grace: float = 5.0,
    ) -> None:
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be between 1 and {MAX_CAPACITY}")
        self._database = database
        self._signer = signer
        self._logger = logger
        self._capacity = capacity
        self._interval = flush_interval
        self._max_wait = max_wait
        self._max_backoff = max_backoff
        self._stop_grace = stop_grace
        self._pending: list[AuditEntry] = []
        self._in_flight = 0
        self._last_error: Error | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._room = asyncio.Condition()
        self._waiters = 0  # reads waiting for room
        self._flushing = asyncio.Lock()

    @property
    def waiting(self) -> int:
        """Records accepted but not yet committed (those of a flush in progress included)."""
        return len(self._pending) + self._in_flight

    async def record(self, entry: AuditEntry) -> Result[None, Error]:
        if self._stopping:
            # Closed (a request finishing during shutdown): no flusher is left to write it.
            error = await self._write([entry])
            return Success(None) if error is None else Failure(error)
        self._ensure_running()
        if (self.waiting >= self._capacity or self._waiters) and not await self._room_for_me():
            self._logger.warning(
                "read_audit_buffer_full", waiting=self.waiting, cause=self._cause()
            )
            return Failure(self._unavailable())
        self._pending.append(entry)
        if len(self._pending) * 2 >= self._capacity:
            self._wake.set()
        return Success(None)

    async def _room_for_me(self) -> bool:
        """Wait until there is room, behind the reads already waiting; False after max_wait.

        A read that comes while others wait joins them, even when a flush just made room: the
        room is theirs first (they were woken by it but have not run yet). Taking it before
        them passed a waiter over again and again until its max_wait ran out: with reads
        running on the event loop (SQLite), 32 readers saw reads of 1-4 s
        (bench/sqlite_readers.py, p99 1.2-1.9 s; 0.16-0.20 s with this).
        """
        self._wake.set()
        await release_shared_reads()  # a read waiting for room holds no connection
        self._waiters += 1
        try:
            await asyncio.sleep(0)  # the reads a flush has just woken take the lock first
            async with self._room:
                await asyncio.wait_for(
                    self._room.wait_for(lambda: self.waiting < self._capacity),
                    timeout=self._max_wait,
                )
        except TimeoutError:
            return False
        finally:
            self._waiters -= 1
        return True

    def start(self) -> None:
        """Start the background flusher (``record`` also starts it on first use)."""
        self._stopping = False
        self._ensure_running()

    async def close(self) -> None:
        """Stop the flusher and write what is waiting (retrying for up to ``stop_grace``)."""
        self._stopping = True
        self._bind()
        task, self._task = self._task, None
        if task is not None:
            self._wake.set()
            # On timeout wait_for cancels the flusher; what is left is reported below.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(task, timeout=self._stop_grace)
        elif self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drain(), timeout=self._stop_grace)
        if self.waiting:
            self._logger.error("read_audit_records_lost", count=self.waiting, cause=self._cause())
            self._pending.clear()
            self._in_flight = 0

    async def flush(self) -> Result[int, Error]:
        """Write everything waiting now, in one INSERT; returns how many records were written."""
        self._bind()
        async with self._flushing:
            batch, self._pending = self._pending, []
            if not batch:
                return Success(0)
            self._in_flight = len(batch)
            try:
                retry, error = batch, await self._write(batch)
                if error is not None and not _is_transient(error):
                    # A record the database refuses must not block the others forever.
                    retry, error = await self._write_one_by_one(batch)
                if error is not None:
                    self._pending[:0] = retry  # oldest first, for the next flush
                    self._last_error = error
                    return Failure(error)
                self._last_error = None
            finally:
                self._in_flight = 0
                async with self._room:
                    self._room.notify_all()
        return Success(len(batch))

    async def _insert(self, session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
        await insert_values(session, [(AuditLogModel, rows)])

    async def _write(self, batch: Sequence[AuditEntry]) -> Error | None:
        # An executemany of one cached statement (SQLAlchemy batches it into multi-row
        # VALUES): a literal multi-row VALUES would be compiled afresh for every batch.
        rows = [self._signer.values(entry) for entry in batch]
        try:
            async with self._database.transaction() as session:
                if not self._database.is_sqlite:
                    # Only this transaction: a crash of the server may lose its last few
                    # hundred milliseconds of read records, never a business write's.
                    await session.execute(text("SET LOCAL synchronous_commit = off"))
                await self._insert(session, rows)
        except DB_ERRORS as exc:
            return classify(exc)
        return None

    async def _write_one_by_one(
        self, batch: Sequence[AuditEntry]
    ) -> tuple[list[AuditEntry], Error | None]:
        """Each record alone: (those to retry, the transient error that stopped them)."""
        retry: list[AuditEntry] = []
        last: Error | None = None
        for entry in batch:
            error = await self._write([entry])
            if error is None:
                continue
            if isinstance(error, ConflictError) and error.code == "duplicate":
                # An earlier flush committed it but its acknowledgement was lost: written.
                continue
            if _is_transient(error):
                retry.append(entry)
                last = error
                continue
            self._logger.error(
                "read_audit_record_lost",
                code=error.code,
                audit_id=str(entry.id),
                action=entry.action.value,
                trace_id=entry.trace_id,
            )
        return retry, last

    def _ensure_running(self) -> None:
        loop = self._bind()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="dashtam-read-audit-flusher")

    def _bind(self) -> asyncio.AbstractEventLoop:
        """asyncio primitives belong to one loop: made anew when the running loop changes."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._wake = asyncio.Event()
            self._room = asyncio.Condition()
            self._waiters = 0
            self._flushing = asyncio.Lock()
            self._task = None  # a flusher of a finished loop is gone with it
        return loop

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff or self._interval)
            self._wake.clear()
            flushed = await self.flush()
            if isinstance(flushed, Failure):
                backoff = min(self._max_backoff, max(self._interval, backoff * 2))
                self._logger.warning(
                    "read_audit_flush_failed", code=flushed.error.code, retry_in=backoff
                )
            else:
                backoff = 0.0
            if self._stopping and not self._pending:
                return

    async def _drain(self) -> None:
        while self._pending:
            if isinstance(await self.flush(), Failure):
                await asyncio.sleep(self._interval)

    def _cause(self) -> str | None:
        return self._last_error.code if self._last_error is not None else None

    def _unavailable(self) -> DatabaseUnavailableError:
        if isinstance(self._last_error, DatabaseUnavailableError):
            return self._last_error
        return DatabaseUnavailableError("audit records cannot be written now", retryable=True)


def _is_transient(error: Error) -> bool:
    """Worth retrying as it is: the database is away, busy or refusing writes for now."""
    if isinstance(error, InfrastructureError) and error.retryable:
        return True
    return isinstance(error, DatabaseUnavailableError) or error.code == "concurrent_update"
