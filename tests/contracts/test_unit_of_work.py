"""The ``UnitOfWork`` contract against the fake, and SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import pytest
from sqlalchemy import select

from dashtam.domain.audit import AuditEntry
from dashtam.domain.users.entities import User
from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.outbox import OutboxEventModel
from dashtam.infrastructure.persistence.read_unit_of_work import read_session_factory
from dashtam.infrastructure.persistence.repositories.users import SqlUserRepository
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.audit_keys import signer_for_tests
from tests.contracts.lifecycle_contract import LifecycleContract
from tests.contracts.unit_of_work_contract import UnitOfWorkContract, UnitOfWorkHarness
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.fakes.logger import RecordingLogger
from tests.integration.helpers import install_failing_insert_trigger


class FakeUnitOfWorkHarness:
    """Committed state is the store's tables; the hook is the one a container would pass."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.logger = self.store.logger
        self.handovers: list[list[UUID]] = []

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(store=self.store, on_committed=self._hand_over)

    async def _hand_over(self, event_ids: Sequence[UUID]) -> None:
        self.handovers.append(list(event_ids))

    async def committed_user(self, user_id: UUID) -> User | None:
        return self.store.users.get(user_id)

    async def committed_audit(self, resource_id: UUID) -> list[AuditEntry]:
        return sorted(
            (entry for entry in self.store.audit_log if entry.resource_id == resource_id),
            key=lambda entry: entry.id,
        )

    async def committed_events(self) -> set[UUID]:
        return {event.event_id for event in self.store.outbox}

    async def break_next_commit(self) -> None:
        self.store.fail_next_commit()


class SqlUnitOfWorkHarness:
    """Committed state is read in read-only sessions: on SQLite they never wait for a writer."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._reads = read_session_factory(database)
        self.logger = RecordingLogger()
        self.handovers: list[list[UUID]] = []

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(
            database=self._database,
            logger=self.logger,
            signer=signer_for_tests(),
            on_committed=self._hand_over,
        )

    async def _hand_over(self, event_ids: Sequence[UUID]) -> None:
        self.handovers.append(list(event_ids))

    async def committed_user(self, user_id: UUID) -> User | None:
        async with self._reads() as session:
            return (await SqlUserRepository(session=session).get(user_id)).unwrap()

    async def committed_audit(self, resource_id: UUID) -> list[AuditEntry]:
        async with self._reads() as session:
            trail = SqlAuditTrail(session=session, signer=signer_for_tests())
            return list((await trail.list_for_resource(resource_id)).unwrap())

    async def committed_events(self) -> set[UUID]:
        async with self._reads() as session:
            return set((await session.scalars(select(OutboxEventModel.id))).all())

    async def break_next_commit(self) -> None:
        await install_failing_insert_trigger(self._database, "event_outbox")


class TestFakeUnitOfWork(UnitOfWorkContract, LifecycleContract):
    @pytest.fixture
    def harness(self) -> UnitOfWorkHarness:
        return FakeUnitOfWorkHarness()


class TestSqlUnitOfWork(UnitOfWorkContract, LifecycleContract):
    """Runs on both backends: ``database`` is parametrized by the root ``backend`` fixture."""

    @pytest.fixture
    def harness(self, database: Database) -> UnitOfWorkHarness:
        return SqlUnitOfWorkHarness(database)
