"""Event delivery in a long-running process: a bounded drain at start-up, then a retry loop."""

from __future__ import annotations

import asyncio

from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.events.relay import OutboxRelay

# Start-up delivers for at most this long before serving; the loop carries on with the rest.
STARTUP_BUDGET_SECONDS = 2.0
# A stop waits this long for the batch in flight; cancelling it rolls it back (redelivered).
STOP_GRACE_SECONDS = 5.0


class BackgroundDelivery:
    """Delivers what start-up left pending, then retries due events every ``interval`` seconds.

    ``interval`` 0 disables the retry loop, but the backlog found at start-up is still drained.
    """

    def __init__(
        self,
        relay: OutboxRelay,
        *,
        interval: float,
        logger: LoggerProtocol,
        startup_budget: float = STARTUP_BUDGET_SECONDS,
    ) -> None:
        self._relay = relay
        self._interval = interval
        self._logger = logger
        self._startup_budget = startup_budget
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Deliver for up to the start-up budget, start the loop; returns events delivered."""
        drained = await self._relay.drain(budget_seconds=self._startup_budget)
        if not drained.complete:
            self._logger.info("event_backlog_continues_in_background", delivered=drained.delivered)
        if self._interval > 0:
            self._task = asyncio.create_task(
                self._relay.run(stop=self._stop, poll_interval=self._interval),
                name="dashtam-event-delivery",
            )
        elif not drained.complete:
            self._task = asyncio.create_task(self._finish_backlog(), name="dashtam-event-backlog")
        return drained.delivered

    async def stop(self) -> None:
        """Stop the loop after its current batch (or cancel it after a grace period)."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, timeout=STOP_GRACE_SECONDS)
        except TimeoutError:
            self._logger.warning("event_delivery_cancelled_at_stop")

    async def _finish_backlog(self) -> None:
        await self._relay.drain(stop=self._stop)
