"""Checks a command makes before it touches data: one line and a non-zero exit if they fail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from dashtam.core.config import Settings


def fail(message: str, code: int = 1) -> None:
    """One line on stderr, a non-zero exit, no traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def sqlite_file(database_url: str) -> Path | None:
    """The absolute path of a SQLite database file (None: not SQLite, or in memory)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    if not url.get_backend_name().startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "").expanduser().resolve()


def require_current_schema(settings: Settings) -> None:
    """Refuse a database the migrations have not brought up to date.

    A SQLite file that does not exist is reported with its absolute path, not created empty:
    the default path is relative to the current directory, so a command run elsewhere would
    otherwise work on a new, empty database.
    """
    from dashtam.bootstrap import Container, describe_connection_error, mask_url

    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        fail(
            f"no database at {path} (DATABASE_URL={settings.database_url}); run the command "
            "where the database is, set DATABASE_URL, or create it with 'dashtam db upgrade'"
        )

    async def _status() -> tuple[str | None, str | None]:
        container = Container(settings)
        try:
            return await container.database.schema_status()
        finally:
            await container.aclose()

    try:
        current, head = asyncio.run(_status())
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use {mask_url(settings.database_url)}: {describe_connection_error(exc)}")
        return
    if current != head:
        where = f" ({path})" if path is not None else ""
        fail(
            f"database schema{where} is at {current or 'nothing'}, this release needs {head}: "
            "run 'dashtam db upgrade' first"
        )
