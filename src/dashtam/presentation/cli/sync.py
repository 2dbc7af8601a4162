"""``dashtam sync`` (sync live connections now) and ``dashtam worker`` (on their schedule)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated
from uuid import UUID

import typer

from dashtam.application.live.commands import SyncConnection
from dashtam.bootstrap import Container, configure_logging
from dashtam.core.config import get_settings
from dashtam.core.result import Failure, Success
from dashtam.core.text import quoted
from dashtam.domain.audit import AuditContext
from dashtam.presentation.cli.credentials import require_credential_cipher
from dashtam.presentation.cli.preflight import fail, require_current_schema

_CLI = AuditContext(user_agent="dashtam-cli")


def sync(
    connection: Annotated[
        str | None, typer.Option("--connection", help="The id of the connection to sync.")
    ] = None,
    all_connections: Annotated[
        bool, typer.Option("--all", help="Sync every connected live connection.")
    ] = False,
) -> None:
    """Sync live connections now, whatever their schedule (one line per connection)."""
    if (connection is None) == (not all_connections):
        fail("give --connection ID or --all")
    chosen: UUID | None = None
    if connection is not None:
        try:
            chosen = UUID(connection)
        except ValueError:
            fail(f"--connection: not a connection id: {quoted(connection[:40])}")
    settings = get_settings()
    require_credential_cipher(settings)
    require_current_schema(settings)
    container = Container(settings)

    async def _run() -> int:
        try:
            return await _sync(container, chosen)
        finally:
            await container.aclose()

    failed = asyncio.run(_run())
    if failed:
        raise typer.Exit(code=1)


async def _sync(container: Container, chosen: UUID | None) -> int:
    if chosen is not None:
        targets = [chosen]
    else:
        async with container.unit_of_work() as uow:
            listed = await uow.sync_state.live_connections()
        if isinstance(listed, Failure):
            fail(listed.error.message)
            return 1
        targets = [due.connection_id for due in listed.value]
        if not targets:
            typer.echo("no live connection to sync")
    handler = container.live.sync_handler()
    failed = 0
    for connection_id in targets:
        result = await handler.handle(SyncConnection(connection_id=connection_id, context=_CLI))
        match result:
            case Success(report):
                typer.echo(
                    f"{connection_id}: {report.status}, {report.accounts} account(s), "
                    f"{report.transactions_new} new, {report.transactions_updated} updated, "
                    f"{report.transactions_removed} removed"
                )
                for message in report.messages:
                    typer.echo(f"  the bridge says: {message}")
            case Failure(error):
                failed += 1
                typer.echo(f"{connection_id}: failed ({error.code}): {error.message}", err=True)
    return failed


def worker(
    once: Annotated[bool, typer.Option(help="Run what is due now, then exit.")] = False,
) -> None:
    """Sync live connections on their schedule and send webhooks (run any number of these)."""
    settings = get_settings()
    require_credential_cipher(settings)
    require_current_schema(settings)
    configure_logging(level=settings.log_level, log_format=settings.effective_log_format)
    container = Container(settings)
    scheduler = container.live.scheduler()

    async def _run() -> int:
        try:
            if once:
                synced = await scheduler.run_once()
                await container.webhooks.sender.deliver_due(limit=1000)
                return synced
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await asyncio.gather(
                scheduler.run(stop=stop, interval=settings.worker_poll_seconds),
                container.webhooks.sender.run(
                    stop=stop, interval=settings.webhook_interval_seconds or 5.0
                ),
            )
            return 0
        finally:
            await container.aclose()

    synced = asyncio.run(_run())
    if once:
        typer.echo(f"synced {synced} connection(s)")
