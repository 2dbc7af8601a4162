"""``dashtam audit``: seal, verify and export the tamper-evident audit trail."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from dashtam.core.config import get_settings
from dashtam.core.container import Container
from dashtam.infrastructure.audit.chain import AuditChain, VerificationReport

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
T = TypeVar("T")


def _with_chain(work: Callable[[AuditChain], Awaitable[T]]) -> T:
    container = Container(get_settings())

    async def _run() -> T:
        try:
            return await work(container.audit_chain)
        finally:
            await container.aclose()

    return asyncio.run(_run())


@audit_app.command()
def seal() -> None:
    """Seal committed audit records into the hash chain (the relay does this continuously)."""

    async def _seal(chain: AuditChain) -> int:
        return await chain.seal_pending()

    typer.echo(f"sealed {_with_chain(_seal)} record(s)")


@audit_app.command()
def verify(
    seal_first: Annotated[
        bool, typer.Option("--seal/--no-seal", help="Seal pending records before verifying.")
    ] = True,
) -> None:
    """Prove that no sealed record was altered, removed or reordered (exit 1 if one was)."""

    async def _verify(chain: AuditChain) -> VerificationReport:
        if seal_first:
            await chain.seal_pending()
        return await chain.verify()

    report = _with_chain(_verify)
    for problem in report.problems:
        typer.echo(f"error: {problem}", err=True)
    typer.echo(
        f"{report.sealed} sealed record(s), {report.unsealed} not yet sealed; "
        f"chain head {report.head}"
    )
    if not report.intact:
        typer.echo(
            f"error: the audit trail was tampered with ({len(report.problems)} problem(s))",
            err=True,
        )
        raise typer.Exit(1)


@audit_app.command()
def export() -> None:
    """Write every sealed record, with its seal, as JSON lines on standard output."""

    async def _export(chain: AuditChain) -> int:
        count = 0
        async for document in chain.export():
            sys.stdout.write(json.dumps(document, sort_keys=True) + "\n")
            count += 1
        return count

    count = _with_chain(_export)
    typer.echo(f"exported {count} record(s)", err=True)
