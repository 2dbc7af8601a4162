"""``dashtam import FILE --user EMAIL``: the API's import use case, called from a terminal.

What the file is comes from its content, not its name. Without ``--connection``, the
connection that already holds the file's account is used, or a new one is created with the
import; when that is not certain, the command asks which (never merging two banks).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from dashtam.application.finance.commands import ImportReport, ImportStatement, NewConnection
from dashtam.bootstrap import Container
from dashtam.core.config import get_settings
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.statement import CsvOptions
from dashtam.presentation.cli.preflight import fail, require_current_schema

_CHOOSE = "pass --connection ID to import into one, or --new-connection LABEL for another bank"


def import_file(
    file: Annotated[Path, typer.Argument(help="OFX/QFX/QBO statement or CSV export.")],
    user: Annotated[str, typer.Option("--user", help="Email of the account owner.")],
    connection: Annotated[
        str | None, typer.Option("--connection", help="Import into this connection (its id).")
    ] = None,
    new_connection: Annotated[
        str | None, typer.Option("--new-connection", help="Create a connection with this label.")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="CSV preset, e.g. chase-checking.")] = None,
    mapping: Annotated[str | None, typer.Option(help="CSV column mapping as JSON.")] = None,
    account: Annotated[str | None, typer.Option(help="CSV: the account's name.")] = None,
) -> None:
    """Import a bank statement for a user (all or nothing, safe to repeat)."""
    if connection is not None and new_connection is not None:
        fail("--connection and --new-connection exclude each other")
    data = _read(file)
    options = CsvOptions(preset=preset, mapping=_mapping(mapping), account=account)
    connection_id = _connection_id(connection)
    settings = get_settings()
    require_current_schema(settings)
    container = Container(settings)

    async def _run() -> Result[ImportReport, Error]:
        try:
            return await _import(
                container, file, data, user, connection_id, new_connection, options
            )
        finally:
            await container.aclose()

    match asyncio.run(_run()):
        case Success(report):
            typer.echo(_summary(file, report))
            if connection_id is None:
                typer.echo(f"connection: {report.connection_id} (pass --connection to reuse it)")
        case Failure(error) if error.code == "connection_required":
            fail(f"{error.message}; {_CHOOSE}")
        case Failure(error):
            fail(error.message)


async def _import(
    container: Container,
    file: Path,
    data: bytes,
    email: str,
    connection_id: UUID | None,
    new_label: str | None,
    options: CsvOptions,
) -> Result[ImportReport, Error]:
    owner = await container.find_active_user().handle(email)
    if isinstance(owner, Failure):
        return owner
    new_connection = (
        NewConnection(label=new_label or file.stem, only_if_first=new_label is None)
        if connection_id is None
        else None
    )
    with typer.progressbar(length=1, label="importing", file=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        return await container.import_statement_handler().handle(
            ImportStatement(
                user_id=owner.value.id,
                connection_id=connection_id,
                new_connection=new_connection,
                data=data,
                filename=file.name,
                csv=options,
                context=AuditContext(actor_id=owner.value.id, user_agent="dashtam-cli"),
                progress=progress,
            )
        )


def _read(file: Path) -> bytes:
    if not file.exists():
        fail(f"no such file: {file}")
    if not file.is_file():
        fail(f"not a file: {file}")
    try:
        return file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
        raise AssertionError("unreachable") from exc


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        fail("--mapping is not valid JSON")
        return None
    if not isinstance(loaded, dict):
        fail("--mapping must be a JSON object")
        return None
    # As the API does: every value is text ("negate": true -> "True").
    return {str(k): str(v) for k, v in loaded.items()}


def _connection_id(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        fail(f"{quoted(text)} is not a connection id")
        return None


def _summary(file: Path, report: ImportReport) -> str:
    line = (
        f"{file.name}: accounts {report.accounts_created} new / {report.accounts_updated} "
        f"updated; transactions {report.transactions_new} new, "
        f"{report.transactions_updated} updated, {report.transactions_unchanged} unchanged"
    )
    if report.transactions_outdated:
        line += f", {report.transactions_outdated} kept (a newer statement has them)"
    invested = (
        report.investment_transactions_new
        + report.investment_transactions_updated
        + report.investment_transactions_unchanged
    )
    if invested or report.holdings_added:
        line += (
            f"\ninvestments: {report.investment_transactions_new} new, "
            f"{report.investment_transactions_updated} updated, "
            f"{report.investment_transactions_unchanged} unchanged; "
            f"positions {report.holdings_added} added"
        )
    for reason, count in sorted(report.skipped.items()):
        line += f"\n{reason} skipped: {count}"
    return line
