"""The ``dashtam db`` commands against real databases, and their one-line errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner, Result

from dashtam.infrastructure.persistence import migrator
from dashtam.presentation.cli.main import app, main


def _head() -> str:
    """The newest revision shipped in the package (whatever migrations exist by now)."""
    script = ScriptDirectory.from_config(migrator.alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


HEAD = _head()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def db(runner: CliRunner, *args: str) -> Result:
    return runner.invoke(app, ["db", *args])


def assert_ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_migration_lifecycle_on_sqlite(runner: CliRunner, tmp_path: Path) -> None:
    # The plain sqlite:// URL an operator types is accepted and given the async driver.
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    assert "database at head" in assert_ok(db(runner, "upgrade", "head", "--url", url))
    assert f"{HEAD} (head)" in assert_ok(db(runner, "current", "--url", url))
    assert "no drift" in assert_ok(db(runner, "check", "--url", url))
    history = assert_ok(db(runner, "history", "--url", url))
    assert f"{HEAD} (head) (current)" in history
    assert "0001_foundation" in history
    assert "base" in assert_ok(db(runner, "downgrade", "base", "--url", url))
    assert assert_ok(db(runner, "current", "--url", url)).strip() == "(no revision applied)"
    assert (tmp_path / "cli.db").exists()


def test_migration_lifecycle_on_postgresql(runner: CliRunner, postgres_server: object) -> None:
    from tests.databases import PostgresServer, run_blocking, unique_name

    assert isinstance(postgres_server, PostgresServer)
    name = unique_name("dashtam_cli")
    url = run_blocking(postgres_server.create_database(name))
    try:
        assert_ok(db(runner, "upgrade", "--url", url))
        assert f"{HEAD} (head)" in assert_ok(db(runner, "current", "--url", url))
        assert "no drift" in assert_ok(db(runner, "check", "--url", url))
        assert_ok(db(runner, "downgrade", "base", "--url", url))
        assert assert_ok(db(runner, "current", "--url", url)).strip() == "(no revision applied)"
        assert_ok(db(runner, "upgrade", "head", "--url", url))  # and back up again
    finally:
        run_blocking(postgres_server.drop_database(name))


def test_check_fails_on_an_unmigrated_database(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"

    result = db(runner, "check", "--url", url)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: check failed")
    assert len(result.stderr.strip().splitlines()) == 1


def _bad_url(kind: str, tmp_path: Path) -> str:
    if kind == "postgresql-refused":
        return "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"
    # A file that is not a database. (A path SQLite cannot open at all would do too, but
    # aiosqlite's worker thread then races the closing event loop and warns.)
    junk = tmp_path / "not-a-database.db"
    junk.write_bytes(b"this is not an SQLite file" * 100)
    return f"sqlite:///{junk}"


@pytest.mark.parametrize("kind", ["postgresql-refused", "sqlite-not-a-database"])
@pytest.mark.parametrize("command", ["upgrade", "current", "history", "check"])
def test_bad_database_is_one_error_line(
    runner: CliRunner, tmp_path: Path, kind: str, command: str
) -> None:
    result = db(runner, command, "--url", _bad_url(kind, tmp_path))

    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {command} failed")
    assert "Traceback" not in result.output
    assert "hunter2" not in result.output  # credentials are masked
    assert isinstance(result.exception, SystemExit)


def test_unparseable_url_is_one_error_line_from_the_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["dashtam", "db", "current", "--url", "not-a-url"])

    with pytest.raises(SystemExit) as exit_info:
        main()

    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in captured.err + captured.out


def test_unparseable_url_is_handled_by_the_db_commands(runner: CliRunner) -> None:
    result = db(runner, "current", "--url", "not-a-url")

    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("error: current failed")
