"""``dashtam audit``: seal, verify, export and checkpoint the audit trail."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from dashtam.bootstrap import (
    AuditChain,
    Checkpointed,
    CheckpointFileError,
    Container,
    ExportFileError,
    VerificationReport,
    append_checkpoint,
    judge,
    read_checkpoints,
    verify_export,
)
from dashtam.core.config import get_settings

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
T = TypeVar("T")


def _with_chain(
    work: Callable[[AuditChain], Awaitable[T]], container: Container | None = None
) -> T:
    container = container or Container(get_settings())

    async def _run() -> T:
        try:
            return await work(container.audit_chain)
        finally:
            await container.aclose()

    return asyncio.run(_run())


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@audit_app.command()
def seal() -> None:
    """Seal committed records into the keyed chain; refuse (exit 1) records with a wrong MAC."""

    async def _seal(chain: AuditChain) -> tuple[int, list[str]]:
        outcome = await chain.seal_pending()
        return outcome.sealed, outcome.refused

    sealed, refused = _with_chain(_seal)
    typer.echo(f"sealed {sealed} record(s)")
    if refused:
        for record_id in refused:
            typer.echo(
                f"error: forged: {record_id}: its MAC was not made by a trusted key", err=True
            )
        raise _fail(f"refused to seal {len(refused)} forged record(s)")


@audit_app.command()
def verify(
    seal_first: Annotated[
        bool,
        typer.Option(
            "--seal/--no-seal", help="Seal pending records first (a write; off by default)."
        ),
    ] = False,
    anchor: Annotated[
        Path | None,
        typer.Option(
            help="Checkpoint file or directory: prove the chain still holds what it signed."
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(help="Verify this export (dashtam audit export) instead of the database."),
    ] = None,
) -> None:
    """Report every forged, altered, removed, reordered or re-sealed record (exit 1 if any)."""
    container = Container(get_settings())
    try:
        checkpoints = _load_anchor(container, anchor) if anchor is not None else []
        if file is not None:
            if seal_first:
                raise _fail("--seal cannot be used with --file (an export is not the database)")
            report = _verify_file(container, file, checkpoints)
        else:

            async def _verify(chain: AuditChain) -> VerificationReport:
                if seal_first:
                    await chain.seal_pending()
                return await chain.verify(checkpoints)

            report = _with_chain(_verify, container)
    except (CheckpointFileError, ExportFileError) as exc:
        raise _fail(str(exc)) from None
    _print_report(report)


def _load_anchor(container: Container, anchor: Path) -> list[Checkpointed]:
    keyring = container.audit_signer.keyring
    return [judge(keyring, document) for document in read_checkpoints(str(anchor))]


def _verify_file(
    container: Container, file: Path, checkpoints: list[Checkpointed]
) -> VerificationReport:
    if not file.is_file():
        raise ExportFileError(f"no export file at {file}")
    with file.open(encoding="utf-8") as lines:
        return verify_export(lines, container.audit_signer.keyring, checkpoints)


def _print_report(report: VerificationReport) -> None:
    for problem in report.problems:
        typer.echo(f"error: {problem}", err=True)
    legacy = f" ({report.legacy} legacy, unkeyed)" if report.legacy else ""
    anchors = f"; {report.checkpoints} checkpoint(s) checked" if report.checkpoints else ""
    typer.echo(
        f"{report.sealed} sealed record(s){legacy}, {report.unsealed} not yet sealed; "
        f"chain head {report.last_seq}:{report.head}{anchors}"
    )
    if not report.intact:
        raise _fail(f"the audit trail was tampered with ({len(report.problems)} problem(s))")


@audit_app.command()
def export() -> None:
    """Write every record with its MAC and seal as JSON lines (verify it with --file)."""

    async def _export(chain: AuditChain) -> int:
        count = 0
        async for document in chain.export():
            sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")
            count += 1
        return count

    count = _with_chain(_export)
    typer.echo(f"exported {count} record(s)", err=True)


@audit_app.command()
def checkpoint(
    path: Annotated[
        str | None,
        typer.Option(help="Append here instead of DASHTAM_AUDIT_CHECKPOINT_PATH."),
    ] = None,
) -> None:
    """Seal, then print and store a signed checkpoint of the chain's head (an outside anchor)."""
    settings = get_settings()
    target = path or settings.audit_checkpoint_path

    async def _checkpoint(chain: AuditChain) -> dict[str, object]:
        await chain.seal_pending()
        return await chain.checkpoint()

    document = _with_chain(_checkpoint)
    try:
        written = append_checkpoint(target, document)
    except OSError as exc:
        raise _fail(f"cannot write the checkpoint to {target}: {exc.strerror or exc}") from None
    typer.echo(json.dumps(document, sort_keys=True))
    typer.echo(f"checkpoint of seal {document['seq']} appended to {written}", err=True)
