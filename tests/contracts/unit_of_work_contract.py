"""The ``UnitOfWork`` contract, written once; ``test_unit_of_work`` runs it per adapter.

A harness gives units of work wired to record what their post-commit hook receives, and
reads committed state from outside any unit of work (as another process would see it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol
from uuid import UUID

import pytest

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import ConflictError, InfrastructureError
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Email
from tests.fakes.logger import RecordingLogger


class UnitOfWorkHarness(Protocol):
    @property
    def logger(self) -> RecordingLogger: ...

    @property
    def handovers(self) -> list[list[UUID]]:
        """The event ids of each call of the post-commit hook, in order."""
        ...

    def uow(self) -> UnitOfWork: ...

    async def committed_user(self, user_id: UUID) -> User | None: ...

    async def committed_audit(self, resource_id: UUID) -> list[AuditEntry]:
        """Committed audit records of ``resource_id``, oldest first."""
        ...

    async def committed_events(self) -> set[UUID]:
        """Event ids in the outbox."""
        ...

    async def break_next_commit(self) -> None:
        """Make the next commit fail inside the database, as a crash at commit would."""
        ...


@dataclass(frozen=True)
class Registration:
    user: User
    audit: AuditEntry
    event: UserRegistered


def failure(resource_id: UUID | None, outcome: AuditOutcome = AuditOutcome.FAILED) -> AuditEntry:
    return AuditEntry(
        action=AuditAction.USER_REGISTERED,
        outcome=outcome,
        resource_type=ResourceType.USER,
        resource_id=resource_id,
        reason="email_taken",
    )


async def register(uow: UnitOfWork, email: str) -> Registration:
    """A use case's work: one business row, its SUCCEEDED audit entry and its event."""
    user = User(email=Email.parse(email).unwrap(), password_hash="fake$x")
    assert isinstance(await uow.users.add(user), Success)
    done = Registration(
        user=user,
        audit=AuditEntry(
            action=AuditAction.USER_REGISTERED,
            outcome=AuditOutcome.SUCCEEDED,
            resource_type=ResourceType.USER,
            resource_id=user.id,
        ),
        event=UserRegistered(user_id=user.id, email=email),
    )
    uow.audit(done.audit)
    uow.raise_event(done.event)
    return done


class UnitOfWorkContract:
    """Every ``UnitOfWork`` adapter must pass these; subclasses provide ``harness``."""

    @pytest.fixture
    def harness(self) -> UnitOfWorkHarness:
        raise NotImplementedError

    async def assert_none_of(self, harness: UnitOfWorkHarness, *work: Registration) -> None:
        events = await harness.committed_events()
        for done in work:
            assert await harness.committed_user(done.user.id) is None
            outcomes = [e.outcome for e in await harness.committed_audit(done.user.id)]
            assert AuditOutcome.SUCCEEDED not in outcomes, "no success of work that did not commit"
            assert done.event.event_id not in events

    async def assert_all_of(self, harness: UnitOfWorkHarness, done: Registration) -> None:
        assert await harness.committed_user(done.user.id) == done.user
        assert [e.id for e in await harness.committed_audit(done.user.id)] == [done.audit.id]
        assert done.event.event_id in await harness.committed_events()

    async def test_commit_makes_rows_audit_and_outbox_durable_together(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            done = await register(uow, "one@example.com")
            assert await uow.commit() == Success(None)
            assert harness.handovers == [], "events are handed over on leaving, not mid-block"
        await self.assert_all_of(harness, done)
        assert harness.handovers == [[done.event.event_id]]

    async def test_nothing_is_visible_to_others_before_commit(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            done = await register(uow, "early@example.com")
            await self.assert_none_of(harness, done)
            assert await harness.committed_audit(done.user.id) == []
            assert (await uow.users.get(done.user.id)).unwrap() == done.user, "but to itself"
            assert await uow.commit() == Success(None)
            await self.assert_all_of(harness, done)

    async def test_leaving_without_commit_rolls_everything_back(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            done = await register(uow, "nocommit@example.com")
        await self.assert_none_of(harness, done)
        assert await harness.committed_audit(done.user.id) == []
        assert harness.handovers == []

    async def test_an_exception_after_commit_keeps_the_work_but_hands_over_nothing(
        self, harness: UnitOfWorkHarness
    ) -> None:
        with pytest.raises(RuntimeError, match="after commit"):
            async with harness.uow() as uow:
                done = await register(uow, "raised@example.com")
                assert await uow.commit() == Success(None)
                raise RuntimeError("after commit")
        await self.assert_all_of(harness, done)
        assert harness.handovers == []  # the relay delivers them from the outbox later

    async def test_two_commits_in_one_block_hand_over_once_on_leaving(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            first = await register(uow, "first@example.com")
            assert await uow.commit() == Success(None)
            second = await register(uow, "second@example.com")
            assert await uow.commit() == Success(None)
        await self.assert_all_of(harness, first)
        await self.assert_all_of(harness, second)
        assert harness.handovers == [[first.event.event_id, second.event.event_id]]

    async def test_rollback_then_more_work_commits_only_the_later_work(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            dropped = await register(uow, "dropped@example.com")
            await uow.rollback()
            kept = await register(uow, "kept@example.com")
            assert await uow.commit() == Success(None)
        await self.assert_none_of(harness, dropped)
        await self.assert_all_of(harness, kept)
        assert harness.handovers == [[kept.event.event_id]]

    async def test_a_commit_refused_by_a_unique_violation_leaves_nothing(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            earlier = await register(uow, "earlier@example.com")
            assert await uow.commit() == Success(None)
        async with harness.uow() as uow:
            done = await register(uow, "later@example.com")
            uow.raise_event(earlier.event)  # already in the outbox: refused at commit
            result = await uow.commit()
            assert isinstance(result, Failure)
            assert isinstance(result.error, ConflictError)
            assert result.error.code == "duplicate"
            assert await uow.commit() == Success(None), "the failed work is gone, not retried"
        await self.assert_none_of(harness, done)
        assert harness.handovers == [[earlier.event.event_id]]
        assert "uow_commit_failed" in harness.logger.events("warning")

    async def test_an_audit_entry_recorded_twice_fails_the_commit(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            earlier = await register(uow, "audited@example.com")
            assert await uow.commit() == Success(None)
        async with harness.uow() as uow:
            done = await register(uow, "audited-again@example.com")
            uow.audit(earlier.audit)
            result = await uow.commit()
        assert isinstance(result, Failure)
        # SQLite's refuse-replace trigger on the append-only table speaks before the key does.
        assert result.error.code in ("duplicate", "operation_not_permitted")
        await self.assert_none_of(harness, done)
        assert [e.id for e in await harness.committed_audit(earlier.user.id)] == [earlier.audit.id]

    # The SQL session warns that the audit and outbox rows queued on its dead transaction
    # are discarded: that is the behaviour under test.
    @pytest.mark.filterwarnings("ignore:Session's state has been changed")
    async def test_a_unique_violation_on_users_fails_the_write_and_the_commit(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            taken = await register(uow, "taken@example.com")
            assert await uow.commit() == Success(None)
        async with harness.uow() as uow:
            done = await register(uow, "innocent@example.com")
            twin = User(email=taken.user.email, password_hash="fake$y")
            added = await uow.users.add(twin)
            assert isinstance(added, Failure)
            assert added.error.code == "email_taken"
            # The failed write spoiled the transaction: nothing of it may commit.
            result = await uow.commit()
            assert isinstance(result, Failure)
            assert isinstance(result.error, InfrastructureError)
            assert result.error.code == "database_error"
        await self.assert_none_of(harness, done)
        assert await harness.committed_user(twin.id) is None
        assert harness.handovers == [[taken.event.event_id]]

    async def test_rollback_after_a_failed_write_makes_the_unit_usable_again(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            taken = await register(uow, "again@example.com")
            assert await uow.commit() == Success(None)
            twin = User(email=taken.user.email, password_hash="fake$y")
            assert isinstance(await uow.users.add(twin), Failure)
            await uow.rollback()
            done = await register(uow, "retry@example.com")
            assert await uow.commit() == Success(None)
        await self.assert_all_of(harness, done)

    async def test_a_commit_that_fails_in_the_database_is_an_infrastructure_error(
        self, harness: UnitOfWorkHarness
    ) -> None:
        await harness.break_next_commit()
        async with harness.uow() as uow:
            done = await register(uow, "crash@example.com")
            result = await uow.commit()
            assert isinstance(result, Failure)
            assert isinstance(result.error, InfrastructureError)
            recorded = await uow.audit_after_rollback(failure(done.user.id))
            assert recorded == Success(None)
        await self.assert_none_of(harness, done)
        outcomes = [e.outcome for e in await harness.committed_audit(done.user.id)]
        assert outcomes == [AuditOutcome.FAILED]
        assert harness.handovers == []

    async def test_record_failure_rolls_back_and_records_the_entry_on_its_own(
        self, harness: UnitOfWorkHarness
    ) -> None:
        with pytest.raises(RuntimeError, match="handler crashed"):
            async with harness.uow() as uow:
                done = await register(uow, "refused@example.com")
                denied = failure(done.user.id, AuditOutcome.DENIED)
                assert await uow.audit_after_rollback(denied) == Success(None)
                # Durable already, in its own transaction: visible before the block ends.
                stored = await harness.committed_audit(done.user.id)
                assert [(e.id, e.outcome) for e in stored] == [(denied.id, AuditOutcome.DENIED)]
                raise RuntimeError("handler crashed")
        await self.assert_none_of(harness, done)
        assert [e.id for e in await harness.committed_audit(done.user.id)] == [denied.id]
        assert harness.handovers == []

    async def test_commit_after_record_failure_commits_none_of_the_failed_work(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            done = await register(uow, "pending@example.com")
            assert await uow.audit_after_rollback(failure(done.user.id)) == Success(None)
            assert await uow.commit() == Success(None)
        await self.assert_none_of(harness, done)
        assert harness.handovers == []

    async def test_a_failure_record_that_cannot_be_written_is_a_loud_failure(
        self, harness: UnitOfWorkHarness
    ) -> None:
        entry = failure(None)
        async with harness.uow() as uow:
            assert await uow.audit_after_rollback(entry) == Success(None)
            again = await uow.audit_after_rollback(entry)  # the same id: the trail refuses it
        assert isinstance(again, Failure)
        assert [r.fields["code"] for r in harness.logger.find("audit_failure_record_lost")] == [
            again.error.code
        ]

    async def test_a_stale_copy_from_an_earlier_unit_of_work_is_a_conflict(
        self, harness: UnitOfWorkHarness
    ) -> None:
        async with harness.uow() as uow:
            done = await register(uow, "race@example.com")
            assert await uow.commit() == Success(None)
        async with harness.uow() as first:
            loaded = (await first.users.get(done.user.id)).unwrap()
            assert loaded is not None
            stale_copy = replace(loaded)  # what a second client read before the first wrote
            loaded.is_active = False
            assert (await first.users.update(loaded)).unwrap().version == 2
            assert await first.commit() == Success(None)
        async with harness.uow() as second:
            stale_copy.password_hash = "fake$other"
            result = await second.users.update(stale_copy)
        assert isinstance(result, Failure)
        assert result.error.code == "stale_version"
        committed = await harness.committed_user(done.user.id)
        assert committed is not None
        assert (committed.is_active, committed.password_hash) == (False, "fake$x")
