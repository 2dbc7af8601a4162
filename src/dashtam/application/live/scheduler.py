"""The sync scheduler: any number of workers take due connections and sync them.

A worker claims a few due connections at a time (a lease, taken in a short transaction that
skips rows other workers are claiming), syncs each and releases it. Nothing is kept in
memory between rounds: a worker that stops, crashes or is killed mid-sync leaves a lease that
runs out, and the connection's schedule (``next_sync_at``, with backoff after failures) is in
the database, so any worker started later carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from dashtam.application.live.commands import SyncConnection
from dashtam.application.live.policy import SyncPolicy
from dashtam.application.live.sync import SyncConnectionHandler
from dashtam.application.unit_of_work import UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.domain.providers.sync_state import DueSync

WORKER_AGENT = "dashtam-worker"


class SyncScheduler:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        handler: SyncConnectionHandler,
        policy: SyncPolicy,
        logger: LoggerProtocol,
        batch_size: int = 5,
        worker_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._handler = handler
        self._policy = policy
        self._logger = logger
        self._batch_size = batch_size
        self.worker_id = worker_id or f"worker:{new_id()}"
        self._clock = clock

    async def run_once(self) -> int:
        """Sync what is due now (a batch at a time, until nothing is); returns syncs run.

        A connection is synced at most once per round: one due again at once (a clock ahead
        of the database's, a zero interval) waits for the next round.
        """
        synced: set[UUID] = set()
        while True:
            claimed = await self._claim()
            again = [due for due in claimed if due.connection_id in synced]
            for due in again:
                await self._release(due)
            fresh = [due for due in claimed if due.connection_id not in synced]
            if not fresh:
                return len(synced)
            for due in fresh:
                await self._sync(due)
                synced.add(due.connection_id)

    async def run(self, *, stop: asyncio.Event, interval: float) -> None:
        """Every ``interval`` seconds until ``stop``; a failed round is logged, not fatal."""
        self._logger.info("sync_worker_started", worker=self.worker_id)
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # the loop must outlive any one round
                self._logger.error("sync_round_failed", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        self._logger.info("sync_worker_stopped", worker=self.worker_id)

    async def _claim(self) -> list[DueSync]:
        now = self._clock()
        async with self._uow_factory() as uow:
            claimed = await uow.sync_state.claim_due(
                worker=self.worker_id,
                now=now,
                lease_until=now + self._policy.lease,
                limit=self._batch_size,
            )
            if isinstance(claimed, Failure):
                self._logger.warning("sync_claim_failed", code=claimed.error.code)
                return []
            committed = await uow.commit()
            if isinstance(committed, Failure):
                self._logger.warning("sync_claim_failed", code=committed.error.code)
                return []
            return list(claimed.value)

    async def _sync(self, due: DueSync) -> None:
        command = SyncConnection(
            connection_id=due.connection_id,
            context=AuditContext(user_agent=WORKER_AGENT),
            claimed_by=self.worker_id,
        )
        try:
            result = await self._handler.handle(command)
        finally:
            await self._release(due)
        match result:
            case Success(report):
                self._logger.info(
                    "connection_synced",
                    connection_id=str(due.connection_id),
                    status=report.status,
                    new=report.transactions_new,
                    updated=report.transactions_updated,
                    removed=report.transactions_removed,
                )
            case Failure(error):
                self._logger.info(
                    "connection_sync_failed", connection_id=str(due.connection_id), code=error.code
                )

    async def _release(self, due: DueSync) -> None:
        async with self._uow_factory() as uow:
            released = await uow.sync_state.release(due.connection_id, worker=self.worker_id)
            done = await uow.commit() if isinstance(released, Success) else released
            if isinstance(done, Failure):
                self._logger.warning("sync_claim_not_released", code=done.error.code)
