"""``dashtam import FILE --user EMAIL`` against a real database."""

from __future__ import annotations

import pytest

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.models import AuditLogModel, ConnectionModel
from tests.api.finance_support import FIXTURES, finance_row_counts
from tests.api.support import FastContainer, create_user, dashtam, fetch


@pytest.mark.usefixtures("fresh_settings")
async def test_import_then_import_again_reports_unchanged(settings: Settings) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    path = str(FIXTURES / "checking_ofx1_sgml.ofx")
    try:
        first = await dashtam(settings.database_url, "import", path, "--user", "Ada@Example.com")
        second = await dashtam(settings.database_url, "import", path, "--user", "ada@example.com")

        assert first[0] == 0, first
        assert (
            "checking_ofx1_sgml.ofx: accounts 1 new / 0 updated; "
            "transactions 4 new, 0 updated, 0 unchanged"
        ) in first[1]
        assert second[0] == 0, second
        assert "transactions 0 new, 0 updated, 4 unchanged" in second[1]
        assert "accounts 0 new / 1 updated" in second[1]
        # One connection per format, created by the first run and reused by the second.
        [connection] = await fetch(container, ConnectionModel)
        assert (connection.provider, connection.label) == ("ofx-file", "checking_ofx1_sgml")
        assert await finance_row_counts(container) == (1, 4, 1)
        imports = await fetch(container, AuditLogModel, AuditLogModel.action == "import.succeeded")
        assert [a.user_agent for a in imports] == ["dashtam-cli", "dashtam-cli"]
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_csv_import_with_a_preset_and_an_explicit_connection(settings: Settings) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    path = str(FIXTURES / "chase_checking.csv")
    try:
        code, out, err = await dashtam(
            settings.database_url,
            "import",
            path,
            "--user",
            "ada@example.com",
            "--preset",
            "chase-checking",
            "--account",
            "joint",
        )
        assert code == 0, (out, err)
        assert "transactions 6 new" in out
        [connection] = await fetch(container, ConnectionModel)

        again = await dashtam(
            settings.database_url,
            "import",
            path,
            "--user",
            "ada@example.com",
            "--connection",
            str(connection.id),
            "--mapping",
            '{"date": "Posting Date", "description": "Description", "amount": "Amount"}',
            "--account",
            "joint",
        )
        assert again[0] == 0, again
        # The same rows, read through an equivalent mapping, have the same content ids.
        assert "transactions 0 new, 0 updated, 6 unchanged" in again[1]
        assert len(await fetch(container, ConnectionModel)) == 1
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("malformed_amount.ofx", [], 'STMTRS #1 STMTTRN #4 TRNAMT: "abc" is not an amount'),
        ("xxe.ofx", [], "DOCTYPE and ENTITY declarations are not allowed"),
        ("chase_checking.csv", [], "a CSV import needs a preset or a mapping"),
        ("chase_checking.csv", ["--mapping", "{nope"], "--mapping is not valid JSON"),
        ("savings.qfx", ["--user", "nobody@example.com"], "no active user nobody@example.com"),
        ("savings.qfx", ["--connection", "42"], '"42" is not a connection id'),
        (
            "savings.qfx",
            ["--connection", "0190a000-0000-7000-8000-000000000000"],
            "connection not found",
        ),
    ],
)
async def test_a_failed_import_is_one_error_line_and_stores_no_rows(
    settings: Settings, name: str, options: list[str], message: str
) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    try:
        code, out, err = await dashtam(
            settings.database_url,
            "import",
            str(FIXTURES / name),
            "--user",
            "ada@example.com",
            *options,
        )

        assert code == 1, (out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("error: ")
        assert message in lines[0]
        assert "Traceback" not in out + err
        assert await finance_row_counts(container) == (0, 0, 0)
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_a_bad_first_file_leaves_no_connection_behind(settings: Settings) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    try:
        code, _out, err = await dashtam(
            settings.database_url,
            "import",
            str(FIXTURES / "malformed_amount.ofx"),
            "--user",
            "ada@example.com",
        )
        assert code == 1, err
        assert "TRNAMT" in err
        # The file is checked before its connection is created.
        assert await fetch(container, ConnectionModel) == []
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_mapping_column_names_match_whatever_their_case(settings: Settings) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    mapping = (
        '{"date": "posting date", "description": "DESCRIPTION", "amount": "amount",'
        ' "date_format": "%m/%d/%Y"}'
    )
    try:
        code, out, err = await dashtam(
            settings.database_url,
            "import",
            str(FIXTURES / "chase_checking.csv"),
            "--user",
            "ada@example.com",
            "--mapping",
            mapping,
        )
        assert code == 0, err
        assert "transactions 6 new" in out
    finally:
        await container.aclose()
