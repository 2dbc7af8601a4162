"""``dashtam import FILE --user EMAIL``: import a bank export from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from dashtam.application.finance.commands import CreateConnection, ImportReport, ImportStatement
from dashtam.bootstrap import Container
from dashtam.core.config import get_settings
from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.statement import CsvOptions
from dashtam.domain.providers.entities import ProviderSlug
from dashtam.domain.users.value_objects import Email

_PROVIDER_BY_SUFFIX = {
    ".ofx": ProviderSlug.OFX_FILE,
    ".qfx": ProviderSlug.OFX_FILE,
    ".csv": ProviderSlug.CSV_FILE,
}


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: Annotated[str, typer.Option("--user", help="Email of the account owner.")],
    connection: Annotated[
        str | None, typer.Option("--connection", help="Connection id (default: one per format).")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="CSV preset, e.g. chase-checking.")] = None,
    mapping: Annotated[str | None, typer.Option(help="CSV column mapping as JSON.")] = None,
    account: Annotated[str | None, typer.Option(help="CSV: the account's name.")] = None,
) -> None:
    """Import an OFX/QFX or CSV file for a user (all or nothing, safe to repeat)."""
    provider = _PROVIDER_BY_SUFFIX.get(file.suffix.lower())
    if connection is None and provider is None:
        _fail("cannot tell the format from the file name; pass --connection")
    parsed_mapping: dict[str, str] | None = None
    if mapping:
        try:
            loaded = json.loads(mapping)
        except json.JSONDecodeError:
            loaded = None
            _fail("--mapping is not valid JSON")
        if not isinstance(loaded, dict):
            _fail("--mapping must be a JSON object")
        else:
            # As the API does: every value is text ("negate": true -> "True").
            parsed_mapping = {str(k): str(v) for k, v in loaded.items()}
    connection_id: UUID | None = None
    if connection is not None:
        try:
            connection_id = UUID(connection)
        except ValueError:
            _fail(f"{connection!r} is not a connection id")
    data = file.read_bytes()
    container = Container(get_settings())

    async def _run() -> Result[ImportReport, Error]:
        try:
            return await _import(
                container,
                file,
                data,
                user,
                connection_id,
                provider,
                CsvOptions(preset=preset, mapping=parsed_mapping, account=account),
            )
        finally:
            await container.aclose()

    match asyncio.run(_run()):
        case Success(report):
            typer.echo(
                f"{file.name}: accounts {report.accounts_created} new / {report.accounts_updated} "
                f"updated; transactions {report.transactions_new} new, "
                f"{report.transactions_updated} updated, {report.transactions_unchanged} unchanged"
            )
        case Failure(error):
            _fail(error.message)


async def _import(
    container: Container,
    file: Path,
    data: bytes,
    email: str,
    connection_id: UUID | None,
    provider: ProviderSlug | None,
    options: CsvOptions,
) -> Result[ImportReport, Error]:
    parsed_email = Email.parse(email)
    if isinstance(parsed_email, Failure):
        return parsed_email
    async with container.unit_of_work() as uow:
        found = await uow.users.find_by_email(parsed_email.value)
        if isinstance(found, Failure):
            return found
        owner = found.value
        if owner is None or not owner.can_log_in:
            return Failure(ValidationError(f"no active user {parsed_email.value}"))
        if connection_id is None and provider is not None:
            existing = await uow.connections.list_for_user(owner.id)
            if isinstance(existing, Failure):
                return existing
            match = next(
                (c for c in existing.value if c.provider is provider and c.is_active), None
            )
            connection_id = match.id if match else None
    context = AuditContext(actor_id=owner.id, user_agent="dashtam-cli")
    if connection_id is None and provider is not None:
        # Check the file before creating its connection: a bad first file leaves nothing.
        checked = container.statement_parsers().parser_for(provider.value, options)
        if isinstance(checked, Failure):
            return checked
        parsed = await asyncio.to_thread(
            checked.value.parse, data, limits=container.import_limits()
        )
        if isinstance(parsed, Failure):
            return parsed
        created = await container.create_connection_handler().handle(
            CreateConnection(
                user_id=owner.id, provider=provider.value, label=file.stem, context=context
            )
        )
        if isinstance(created, Failure):
            return created
        connection_id = created.value.id
    assert connection_id is not None

    with typer.progressbar(length=1, label="importing", file=None) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        return await container.import_statement_handler().handle(
            ImportStatement(
                user_id=owner.id,
                connection_id=connection_id,
                data=data,
                filename=file.name,
                csv=options,
                context=context,
                progress=progress,
            )
        )
