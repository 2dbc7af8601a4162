"""Where ``dashtam import`` puts a file: never into another bank's accounts, never nowhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashtam.core.config import Settings, get_settings
from dashtam.infrastructure.persistence.models import ConnectionModel
from dashtam.presentation.cli.main import app as cli_app
from tests.api.finance_support import FIXTURES, finance_row_counts
from tests.api.support import FastContainer, create_user, dashtam, fetch

CHASE = ["--preset", "chase-checking", "--account", "checking"]


@pytest.mark.usefixtures("fresh_settings")
async def test_a_second_banks_csv_is_not_merged_into_the_first(settings: Settings) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    url = settings.database_url
    chase = str(FIXTURES / "chase_checking.csv")
    boa = str(FIXTURES / "bank_of_america.csv")
    try:
        first = await dashtam(
            url, "import", chase, "--user", "ada@example.com", "--preset", "chase-checking"
        )
        assert first[0] == 0, first
        [connection] = await fetch(container, ConnectionModel)
        assert f"connection: {connection.id}" in first[1]

        code, out, err = await dashtam(
            url, "import", boa, "--user", "ada@example.com", "--preset", "bank-of-america"
        )
        assert code == 1, (out, err)
        [line] = err.strip().splitlines()
        assert str(connection.id) in line
        assert "--connection ID" in line
        assert "--new-connection LABEL" in line
        assert len(await fetch(container, ConnectionModel)) == 1

        code, out, err = await dashtam(
            url,
            "import",
            boa,
            "--user",
            "ada@example.com",
            "--preset",
            "bank-of-america",
            "--new-connection",
            "Bank of America",
        )
        assert code == 0, (out, err)
        labels = sorted(c.label for c in await fetch(container, ConnectionModel))
        assert labels == ["Bank of America", "chase_checking"]
        accounts, _transactions, _snapshots = await finance_row_counts(container)
        assert accounts == 2, "one account per bank, each with its own balance"
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_a_named_csv_account_is_found_again_without_its_connection(
    settings: Settings,
) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    chase = str(FIXTURES / "chase_checking.csv")
    try:
        first = await dashtam(
            settings.database_url, "import", chase, "--user", "ada@example.com", *CHASE
        )
        again = await dashtam(
            settings.database_url, "import", chase, "--user", "ada@example.com", *CHASE
        )
        assert (first[0], again[0]) == (0, 0), (first, again)
        assert "0 new, 0 updated, 6 unchanged" in again[1]
        assert len(await fetch(container, ConnectionModel)) == 1
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
@pytest.mark.parametrize("name", ["webconnect.qbo", "statement.txt", "statement"])
async def test_the_content_decides_the_format_not_the_name(
    settings: Settings, tmp_path: Path, name: str
) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    source = "webconnect.qbo" if name.endswith(".qbo") else "checking_ofx1_sgml.ofx"
    path = tmp_path / name
    shutil.copyfile(FIXTURES / source, path)
    try:
        code, out, err = await dashtam(
            settings.database_url, "import", str(path), "--user", "ada@example.com"
        )
        assert code == 0, (out, err)
        [connection] = await fetch(container, ConnectionModel)
        assert connection.provider == "ofx-file"
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_a_missing_file_is_one_error_line(settings: Settings, tmp_path: Path) -> None:
    code, _out, err = await dashtam(
        settings.database_url, "import", str(tmp_path / "nope.ofx"), "--user", "ada@example.com"
    )
    assert code == 1
    assert err.strip().splitlines() == [f"error: no such file: {tmp_path / 'nope.ofx'}"]


def test_a_default_database_elsewhere_is_named_not_created(tmp_path: Path) -> None:
    statement = tmp_path / "statement.ofx"
    shutil.copyfile(FIXTURES / "savings.qfx", statement)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    before = Path.cwd()
    os.chdir(elsewhere)
    try:
        get_settings.cache_clear()
        env = {"DATABASE_URL": "sqlite:///./dashtam.db", "DASHTAM_ENV": "test"}
        result = CliRunner().invoke(
            cli_app, ["import", str(statement), "--user", "ada@example.com"], env=env
        )
    finally:
        os.chdir(before)
        get_settings.cache_clear()
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert f"no database at {elsewhere / 'dashtam.db'}" in line
    assert not (elsewhere / "dashtam.db").exists()
