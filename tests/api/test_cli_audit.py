"""``dashtam audit seal|verify|export|checkpoint`` against a real database."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest

from dashtam.core.config import Settings
from tests.api.support import FastContainer, create_user, dashtam
from tests.integration.helpers import tamper_with_audit


@pytest.mark.usefixtures("fresh_settings")
async def test_seal_verify_export_and_tampering(settings: Settings, tmp_path: Path) -> None:
    container = FastContainer(settings)
    first = await create_user(container, "ada@example.com")
    await create_user(container, "bob@example.com")
    url = settings.database_url
    try:
        # verify never writes unless asked: nothing is sealed by looking.
        code, out, err = await dashtam(url, "audit", "verify")
        assert code == 0, err
        assert "0 sealed record(s), 2 not yet sealed" in out

        code, out, err = await dashtam(url, "audit", "seal")
        assert (code, out.strip()) == (0, "sealed 2 record(s)"), err

        code, out, err = await dashtam(url, "audit", "export")
        assert code == 0, err
        documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert [d["seal"]["seq"] for d in documents] == [1, 2]
        assert documents[0]["record"]["resource_id"] == str(first)
        assert "exported 2 record(s)" in err
        export = tmp_path / "export.jsonl"
        export.write_text(out)

        anchor = tmp_path / "anchors"
        code, out, err = await dashtam(url, "audit", "checkpoint", "--path", f"{anchor}/")
        assert code == 0, err
        assert json.loads(out)["seq"] == 2

        code, out, err = await dashtam(url, "audit", "verify", "--anchor", str(anchor))
        assert code == 0, err
        assert "1 checkpoint(s) checked" in out

        target = first.hex if container.database.is_sqlite else str(first)
        await tamper_with_audit(
            container.database,
            f"UPDATE audit_logs SET reason = 'nothing to see' WHERE resource_id = '{target}'",
        )
        code, out, err = await dashtam(url, "audit", "verify")
        assert code == 1
        assert "error: altered: seal 1, " in err
        assert "Traceback" not in out + err

        # The auditor's copy, taken before the tampering, still verifies without the database.
        code, out, err = await dashtam(
            "sqlite+aiosqlite:///nowhere/at/all.db",
            "audit",
            "verify",
            "--file",
            str(export),
            "--anchor",
            str(anchor),
        )
        assert code == 0, err
        assert "2 sealed record(s), 0 not yet sealed" in out
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_a_forged_record_fails_seal_and_verify_by_id(settings: Settings) -> None:
    container = FastContainer(settings)
    await create_user(container, "ada@example.com")
    url = settings.database_url
    forged = UUID("01a20f90-0000-7000-8000-000000000001")
    as_sql = forged.hex if container.database.is_sqlite else str(forged)
    try:
        await tamper_with_audit(
            container.database,
            "INSERT INTO audit_logs (id, created_at, action, outcome, resource_type, metadata, "
            f"mac, key_id) VALUES ('{as_sql}', '2026-01-01 00:00:00', 'admin.user_deleted', "
            "'succeeded', 'user', '{}', 'deadbeef', 'k')",
        )
        code, out, err = await dashtam(url, "audit", "seal")
        assert code == 1
        assert "sealed 1 record(s)" in out
        assert f"error: forged: {forged}" in err

        code, out, err = await dashtam(url, "audit", "verify")
        assert code == 1
        assert f"error: forged: {forged}: not sealed" in err
    finally:
        await container.aclose()


@pytest.mark.usefixtures("fresh_settings")
async def test_unreadable_anchor_and_export_are_one_line_errors(
    settings: Settings, tmp_path: Path
) -> None:
    url = settings.database_url
    garbage = tmp_path / "garbage"
    garbage.write_text("not json\n")
    for args in (
        ("--anchor", str(tmp_path / "missing")),
        ("--anchor", str(garbage)),
        ("--file", str(garbage)),
        ("--file", str(tmp_path / "missing")),
    ):
        code, out, err = await dashtam(url, "audit", "verify", *args)
        assert code == 1, args
        assert err.startswith("error: "), err
        assert len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in out + err


@pytest.mark.usefixtures("fresh_settings")
async def test_a_malformed_signing_key_stops_serve_with_one_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DASHTAM_AUDIT_SIGNING_KEY", "not-a-key")
    code, out, err = await dashtam(settings.database_url, "serve", "--port", "1")
    assert code == 1
    assert err.startswith("error: DASHTAM_AUDIT_SIGNING_KEY must be")
    assert "Traceback" not in out + err
