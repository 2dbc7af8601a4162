"""``dashtam users``: account administration from the command line."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.config import get_settings
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditContext
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Role

users_app = typer.Typer(help="User accounts.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("no password on standard input")
        return password
    if not sys.stdin.isatty():
        _fail("no terminal to prompt on; pass --password-stdin and pipe the password")
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Repeat password", hide_input=True)
    if first != second:
        _fail("the two passwords differ")
    return str(first)


@users_app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option("--email", help="The administrator's email.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an administrator account (the first one, typically)."""
    password = _read_password(password_stdin)
    container = Container(get_settings())

    async def _run() -> Result[User, Error]:
        try:
            command = RegisterUser(
                email=email,
                password=password,
                role=Role.ADMIN,
                context=AuditContext(user_agent="dashtam-cli"),
            )
            return await container.register_user_handler().handle(command)
        finally:
            await container.aclose()

    match asyncio.run(_run()):
        case Success(user):
            typer.echo(f"administrator {user.email} created (id {user.id})")
        case Failure(error):
            _fail(error.message)
