"""``dashtam users create-admin``: the first administrator, then logging in as them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dashtam.core.config import Settings, get_settings
from dashtam.infrastructure.persistence.models import AuditLogModel, UserModel
from dashtam.presentation.cli.main import app
from tests.api.support import ADMIN_USERS_URL, FastContainer, bearer, fetch, log_in, running

ADMIN_PASSWORD = "the first administrator passphrase"


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI reads its settings from the environment, like the real process would."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DASHTAM_ENV", "test")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def create_admin(email: str, stdin: str) -> tuple[int, str, str]:
    """Runs the command in a worker thread: it calls ``asyncio.run`` like the real CLI does."""

    def invoke() -> tuple[int, str, str]:
        args = ["users", "create-admin", "--email", email, "--password-stdin"]
        result = CliRunner().invoke(app, args, input=stdin)
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(invoke)


@pytest.mark.usefixtures("cli_env")
async def test_create_admin_then_log_in_as_them(settings: Settings) -> None:
    code, out, err = await create_admin("Root@Example.com", ADMIN_PASSWORD + "\n")

    assert code == 0, (out, err)
    assert "administrator root@example.com created" in out
    assert ADMIN_PASSWORD not in out + err
    container = FastContainer(settings)
    async with running(container) as (_, client):
        response = await log_in(client, "root@example.com", ADMIN_PASSWORD)
        assert response.status_code == 201, response.text
        listed = await client.get(ADMIN_USERS_URL, headers=bearer(response.json()["access_token"]))
        assert listed.status_code == 200, listed.text
        [row] = await fetch(container, UserModel)
        assert (row.email, row.role) == ("root@example.com", "admin")
        [audit] = await fetch(container, AuditLogModel, AuditLogModel.action == "user.registered")
        assert audit.user_agent == "dashtam-cli"
        assert audit.details["role"] == "admin"


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("short\n", "at least"),
        ("qwerty123456789\n", "too common"),
        ("\n", "no password on standard input"),
    ],
)
async def test_a_rejected_password_is_one_error_line(
    settings: Settings, stdin: str, message: str
) -> None:
    code, out, err = await create_admin("root@example.com", stdin)

    assert code == 1, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in out + err
    container = FastContainer(settings)
    try:
        assert await fetch(container, UserModel) == []
    finally:
        await container.aclose()


@pytest.mark.usefixtures("cli_env")
async def test_a_taken_email_is_one_error_line(settings: Settings) -> None:
    assert (await create_admin("root@example.com", ADMIN_PASSWORD + "\n"))[0] == 0

    code, _, err = await create_admin("root@example.com", "another passphrase entirely\n")

    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("error: ")
