"""``dashtam audit verify|export|seal`` against a real database."""

from __future__ import annotations

import json

import pytest

from dashtam.core.config import Settings
from tests.api.support import FastContainer, create_user, dashtam
from tests.integration.helpers import tamper_with_audit


@pytest.mark.usefixtures("fresh_settings")
async def test_verify_export_and_tampering(settings: Settings) -> None:
    container = FastContainer(settings)
    first = await create_user(container, "ada@example.com")
    await create_user(container, "bob@example.com")
    try:
        code, out, err = await dashtam(settings.database_url, "audit", "verify")
        assert code == 0, err
        assert "2 sealed record(s), 0 not yet sealed" in out

        code, out, err = await dashtam(settings.database_url, "audit", "export")
        assert code == 0, err
        documents = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert [d["seal"]["seq"] for d in documents] == [1, 2]
        assert documents[0]["resource_id"] == str(first)
        assert "exported 2 record(s)" in err

        target = first.hex if container.database.is_sqlite else str(first)
        await tamper_with_audit(
            container.database,
            f"UPDATE audit_logs SET reason = 'nothing to see' WHERE resource_id = '{target}'",
        )
        code, out, err = await dashtam(settings.database_url, "audit", "verify")
        assert code == 1
        assert "error: seal 1: audit record" in err
        assert "was altered" in err
        assert "Traceback" not in out + err
    finally:
        await container.aclose()
