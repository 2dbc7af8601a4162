"""The ``dashtam`` command line."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Annotated

import typer

from dashtam.bootstrap import configure_logging
from dashtam.core.config import Settings, get_settings
from dashtam.presentation.cli.audit import audit_app
from dashtam.presentation.cli.credentials import credentials_app, require_credential_cipher
from dashtam.presentation.cli.db import db_app
from dashtam.presentation.cli.holdings import holdings
from dashtam.presentation.cli.imports import import_file
from dashtam.presentation.cli.preflight import fail, require_current_schema
from dashtam.presentation.cli.sync import sync, worker
from dashtam.presentation.cli.users import users_app

app = typer.Typer(
    name="dashtam",
    help="Dashtam: self-hostable financial-data aggregation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(credentials_app, name="credentials")
app.command("import")(import_file)
app.command("holdings")(holdings)
app.command("sync")(sync)
app.command("worker")(worker)
events_app = typer.Typer(help="Event delivery.", no_args_is_help=True)
app.add_typer(events_app, name="events")


@app.callback()
def _configure() -> None:
    """One-shot commands print their result, not the service's info logs."""
    settings = get_settings()
    level = (
        settings.log_level if settings.log_level in ("DEBUG", "ERROR", "CRITICAL") else "WARNING"
    )
    configure_logging(level=level, log_format=settings.effective_log_format)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
) -> None:
    """Serve the HTTP API (run 'dashtam db upgrade' first)."""
    import uvicorn

    settings = get_settings()
    problems = settings.check_production_safety()
    if problems:
        fail("; ".join(problems))
    _require_valid_audit_keys(settings)
    require_credential_cipher(settings)
    require_current_schema(settings)
    configure_logging(level=settings.log_level, log_format=settings.effective_log_format)
    uvicorn.run(
        "dashtam.presentation.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=None,
        access_log=False,  # the API logs one structured line per request itself
        proxy_headers=True,
    )


@events_app.command("relay")
def events_relay(
    poll_interval: Annotated[
        float,
        typer.Option(
            min=0.05,
            help="Seconds between scans (on PostgreSQL committed events also wake the relay).",
        ),
    ] = 1.0,
    once: Annotated[bool, typer.Option(help="Deliver what is pending, then exit.")] = False,
) -> None:
    """Deliver pending events and seal the audit chain (safe to run in many processes)."""
    from dashtam.bootstrap import Container

    settings = get_settings()
    _require_valid_audit_keys(settings)
    configure_logging(level=settings.log_level, log_format=settings.effective_log_format)
    container = Container(settings)

    async def _run() -> int:
        chain = container.audit_chain
        try:
            if once:
                delivered = await container.event_bus.deliver_pending()
                await chain.seal_pending()
                return delivered
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await asyncio.gather(
                container.event_bus.run(stop=stop, poll_interval=poll_interval, listen=True),
                chain.seal_until(
                    stop,
                    interval=poll_interval,
                    checkpoint_interval=settings.audit_checkpoint_interval_seconds,
                    checkpoint_path=settings.audit_checkpoint_path,
                ),
            )
            return 0
        finally:
            await container.aclose()

    delivered = asyncio.run(_run())
    if once:
        typer.echo(f"delivered {delivered} event(s)")


def _require_valid_audit_keys(settings: Settings) -> None:
    """A malformed audit key must stop start-up, not every write after it."""
    from dashtam.bootstrap import AuditKeyring

    try:
        AuditKeyring.from_settings(settings)
    except ValueError as exc:
        fail(str(exc).splitlines()[0])


def main() -> None:
    """Entry point: whatever goes wrong, the user sees one line, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence for a CLI user
        typer.echo(
            f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", err=True
        )
        sys.exit(1)
