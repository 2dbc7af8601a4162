"""The ``AuditProtocol`` contract against the fake, and SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail
from dashtam.infrastructure.persistence.database import Database
from tests.audit_keys import signer_for_tests
from tests.contracts.audit_contract import AuditTrailContract
from tests.contracts.harness import Harness, SqlSessionHarness
from tests.fakes import FakeAuditTrail


class FakeAuditHarness:
    """Entries are appended at once: the fake trail has no transaction of its own."""

    def __init__(self) -> None:
        self.adapter = FakeAuditTrail()

    async def reopen(self) -> FakeAuditTrail:
        self.adapter = FakeAuditTrail(entries=self.adapter.entries)
        return self.adapter

    async def discard(self) -> FakeAuditTrail:
        return await self.reopen()


class TestFakeAuditTrail(AuditTrailContract):
    @pytest.fixture
    def harness(self) -> Harness[FakeAuditTrail]:
        return FakeAuditHarness()


class TestSqlAuditTrail(AuditTrailContract):
    """Runs on both backends: ``database`` is parametrized by the root ``backend`` fixture."""

    @pytest.fixture
    async def harness(self, database: Database) -> AsyncIterator[Harness[SqlAuditTrail]]:
        harness = SqlSessionHarness(
            database, lambda session: SqlAuditTrail(session=session, signer=signer_for_tests())
        )
        await harness.open()
        try:
            yield harness
        finally:
            await harness.close()
