"""The running API seals its audit records into the hash chain by itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dashtam.core.config import Settings
from dashtam.infrastructure.audit.checkpoints import judge, read_checkpoints
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


async def test_the_running_api_writes_signed_checkpoints(database_url: str, tmp_path: Path) -> None:
    anchor = tmp_path / "checkpoints.jsonl"
    settings = Settings(
        DATABASE_URL=database_url,
        DASHTAM_ENV="test",
        LOG_LEVEL="WARNING",
        DASHTAM_AUDIT_SEAL_INTERVAL=0.05,
        DASHTAM_AUDIT_CHECKPOINT_INTERVAL=0.05,
        DASHTAM_AUDIT_CHECKPOINT_PATH=str(anchor),
    )
    container = FastContainer(settings)
    async with running(container) as (_app, client):
        response = await client.post(
            "/api/v1/users", json={"email": "anchored@example.com", "password": "a long passphrase"}
        )
        assert response.status_code == 201
        for _ in range(100):  # bounded: at most ~5 s
            if anchor.exists() and any(d["seq"] >= 1 for d in read_checkpoints(str(anchor))):
                break
            await asyncio.sleep(0.05)
    keyring = container.audit_signer.keyring
    checkpoints = [judge(keyring, document) for document in read_checkpoints(str(anchor))]
    assert checkpoints
    assert all(checkpoint.trusted for checkpoint in checkpoints)
    # Written only when the chain moved: no two checkpoints of one seal from one process.
    assert len({c.seq for c in checkpoints}) == len(checkpoints)
    verifier = FastContainer(settings)
    try:
        report = await verifier.audit_chain.verify(checkpoints)
    finally:
        await verifier.aclose()
    assert report.intact, report.problems
