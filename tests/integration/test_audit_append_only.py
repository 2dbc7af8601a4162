"""The audit trail is append-only, enforced by the database itself on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail
from dashtam.infrastructure.errors import classify
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from tests.audit_keys import signer_for_tests


async def _seed(database: Database) -> AuditEntry:
    entry = AuditEntry(
        action=AuditAction.USER_REGISTERED,
        outcome=AuditOutcome.SUCCEEDED,
        resource_type=ResourceType.USER,
        metadata={"email": "a@b.co"},
    )
    async with database.transaction() as session:
        assert (
            await SqlAuditTrail(session=session, signer=signer_for_tests()).record(entry)
        ).is_success()
    return entry


async def _count(database: Database) -> int:
    async with database.get_session() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditLogModel)) or 0)


async def test_update_is_refused(database: Database) -> None:
    entry = await _seed(database)
    with pytest.raises(DBAPIError) as caught:
        async with database.transaction() as session:
            await session.execute(
                update(AuditLogModel).where(AuditLogModel.id == entry.id).values(outcome="failed")
            )
    assert classify(caught.value).code == "operation_not_permitted"
    async with database.get_session() as session:
        row = await session.get(AuditLogModel, entry.id)
        assert row is not None
        assert row.outcome == "succeeded"


async def test_delete_is_refused(database: Database) -> None:
    await _seed(database)
    with pytest.raises(DBAPIError) as caught:
        async with database.transaction() as session:
            await session.execute(delete(AuditLogModel))
    assert classify(caught.value).code == "operation_not_permitted"
    assert await _count(database) == 1


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_truncate_is_refused_on_postgresql(database: Database) -> None:
    await _seed(database)
    # CASCADE reaches the seals too (their foreign key would refuse a plain TRUNCATE first):
    # the append-only triggers are what refuse it.
    with pytest.raises(DBAPIError) as caught:
        async with database.transaction() as session:
            await session.execute(text("TRUNCATE audit_logs CASCADE"))
    assert classify(caught.value).code == "operation_not_permitted"
    with pytest.raises(DBAPIError):
        async with database.transaction() as session:
            await session.execute(text("TRUNCATE audit_logs"))
    assert await _count(database) == 1


async def test_insert_still_allowed(database: Database) -> None:
    await _seed(database)
    await _seed(database)
    assert await _count(database) == 2
