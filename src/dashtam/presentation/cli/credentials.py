"""``dashtam credentials check``: are the credentials keys usable, and which one seals;
``dashtam credentials rotate``: re-encrypt what is stored under the current key.

Only key ids are printed (a keyed digest of each key), never a key or a sealed value.
"""

from __future__ import annotations

import asyncio
import secrets

import typer

from dashtam.application.live.rotation import Rotation
from dashtam.bootstrap import Container
from dashtam.core.config import Settings, get_settings
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.presentation.cli.preflight import fail, require_current_schema

credentials_app = typer.Typer(help="Provider credentials encrypted at rest.", no_args_is_help=True)

_PROBE_CONTEXT = "dashtam credentials check"


def require_credential_cipher(settings: Settings) -> CredentialCipher:
    """A malformed DASHTAM_CREDENTIALS_KEY stops the command: one line naming the setting."""
    try:
        return Container(settings).credential_cipher
    except ValueError as exc:
        fail(str(exc).splitlines()[0])
        raise  # unreachable: fail() exits; keeps the return type honest


@credentials_app.command("check")
def check() -> None:
    """Say whether the keys are valid and which key id seals new credentials."""
    settings = get_settings()
    cipher = require_credential_cipher(settings)
    probe = secrets.token_urlsafe(16)
    opened = cipher.open(cipher.seal(probe, context=_PROBE_CONTEXT), context=_PROBE_CONTEXT)
    if opened != Success(probe):
        fail("credentials keys: a value sealed now does not open again")
    configured = settings.credentials_key
    if configured is not None and configured.get_secret_value().strip():
        source = f"{len(cipher.key_ids)} key(s) from DASHTAM_CREDENTIALS_KEY"
    else:
        source = "derived from DASHTAM_SECRET_KEY; set DASHTAM_CREDENTIALS_KEY in production"
    typer.echo(f"credentials keys: valid ({source})")
    typer.echo(f"sealing with key id {cipher.current_key_id}")
    older = cipher.key_ids[1:]
    if older:
        typer.echo(f"also opening key id(s) {', '.join(older)}")


@credentials_app.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored provider credential under the current (first) key."""
    settings = get_settings()
    require_credential_cipher(settings)
    require_current_schema(settings)
    container = Container(settings)

    async def _run() -> Result[Rotation, Error]:
        try:
            return await container.live.rotate_handler().handle(
                AuditContext(user_agent="dashtam-cli")
            )
        finally:
            await container.aclose()

    match asyncio.run(_run()):
        case Success(done):
            typer.echo(
                f"credentials: {done.resealed} of {done.examined} re-encrypted under key id "
                f"{done.key_id}"
            )
            if done.unreadable:
                fail(
                    f"{done.unreadable} credential(s) open with none of the configured keys: "
                    "keep their old key in DASHTAM_CREDENTIALS_KEY, or reconnect them"
                )
        case Failure(error):
            fail(error.message)
