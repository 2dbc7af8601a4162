"""The running API seals its audit records into the hash chain by itself."""

from __future__ import annotations

import asyncio

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.audit_seals import AuditSealModel
from tests.api.support import FastContainer, fetch, running


async def test_records_written_while_serving_get_sealed(database_url: str) -> None:
    settings = Settings(
        DATABASE_URL=database_url,
        DASHTAM_ENV="test",
        LOG_LEVEL="WARNING",
        DASHTAM_AUDIT_SEAL_INTERVAL=0.05,
    )
    container = FastContainer(settings)
    async with running(container) as (_app, client):
        response = await client.post(
            "/api/v1/users", json={"email": "sealed@example.com", "password": "a long passphrase"}
        )
        assert response.status_code == 201
        for _ in range(100):  # bounded: at most ~5 s
            if len(await fetch(container, AuditSealModel)) == 1:
                break
            await asyncio.sleep(0.05)
        records = await fetch(container, AuditLogModel)
        seals = await fetch(container, AuditSealModel)
    assert [seal.audit_id for seal in seals] == [record.id for record in records]
    verifier = FastContainer(settings)
    try:
        report = await verifier.audit_chain.verify()
    finally:
        await verifier.aclose()
    assert (report.sealed, report.unsealed, report.intact) == (1, 0, True)
