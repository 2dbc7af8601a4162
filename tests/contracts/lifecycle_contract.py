"""The use-case lifecycle (``UseCaseRunner``) over a real unit of work, written once.

``test_unit_of_work`` runs it against the fake and SQL on both databases: what the runner
promises (rows, audit and outbox together; a failure recorded on its own) must hold on each.
"""

from __future__ import annotations

from dashtam.application.lifecycle import AuditNote, Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import AuthorizationError, ConflictError, Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditOutcome, ResourceType
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Email
from tests.contracts.unit_of_work_contract import UnitOfWorkHarness

REGISTERS = Audits(
    action=AuditAction.USER_REGISTERED,
    failed_action=AuditAction.USER_REGISTRATION_FAILED,
    resource_type=ResourceType.USER,
    failure_event="registration_failed",
)


def new_user(email: str) -> User:
    return User(email=Email.parse(email).unwrap(), password_hash="fake$x")


def note_for(user: User, audits: Audits = REGISTERS) -> AuditNote:
    return audits.note(AuditContext(ip_address="192.0.2.7"), resource_id=user.id, plan="basic")


async def add(uow: UnitOfWork, user: User) -> Result[User, Error]:
    added = await uow.users.add(user)
    uow.raise_event(UserRegistered(user_id=user.id, email=user.email.value))
    return added


class LifecycleContract:
    """Subclasses provide the ``harness`` fixture (see ``UnitOfWorkContract``)."""

    async def test_a_success_commits_rows_its_record_and_its_events_together(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("ran@example.com")
        note = note_for(user)

        async def work(uow: UnitOfWork) -> Result[User, Error]:
            note.on_success(role="user")
            return await add(uow, user)

        assert await UseCaseRunner(harness.uow).run(note, work) == Success(user)
        assert await harness.committed_user(user.id) == user
        [entry] = await harness.committed_audit(user.id)
        assert (entry.action, entry.outcome) == (
            AuditAction.USER_REGISTERED,
            AuditOutcome.SUCCEEDED,
        )
        assert dict(entry.metadata) == {"plan": "basic", "role": "user"}
        assert entry.ip_address == "192.0.2.7"
        assert len(await harness.committed_events()) == 1

    async def test_a_failed_work_leaves_only_its_failure_record(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("failed@example.com")

        async def work(uow: UnitOfWork) -> Result[User, Error]:
            await add(uow, user)  # written, then the use case finds it must not be
            return Failure(ConflictError("taken", code="email_taken"))

        runner = UseCaseRunner(harness.uow, logger=harness.logger)
        result = await runner.run(note_for(user), work)
        assert isinstance(result, Failure)
        assert result.error.code == "email_taken"
        assert await harness.committed_user(user.id) is None
        assert await harness.committed_events() == set()
        [entry] = await harness.committed_audit(user.id)
        assert (entry.action, entry.outcome, entry.reason) == (
            AuditAction.USER_REGISTRATION_FAILED,
            AuditOutcome.FAILED,
            "email_taken",
        )
        assert dict(entry.metadata) == {"plan": "basic"}, "success-only metadata stays out"
        [logged] = harness.logger.find("registration_failed")
        assert logged.fields == {"code": "email_taken"}

    async def test_a_failed_commit_is_recorded_as_the_failure(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("commit@example.com")
        await harness.break_next_commit()
        result = await UseCaseRunner(harness.uow).run(note_for(user), lambda uow: add(uow, user))
        assert isinstance(result, Failure)
        assert await harness.committed_user(user.id) is None
        [entry] = await harness.committed_audit(user.id)
        assert (entry.outcome, entry.reason) == (AuditOutcome.FAILED, result.error.code)

    async def test_a_refusal_is_recorded_as_denied_under_its_own_action(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("denied@example.com")
        note = note_for(user)

        async def work(uow: UnitOfWork) -> Result[User, Error]:
            note.refused(action=AuditAction.ADMIN_ACCESS_DENIED, reason="not_an_admin")
            return Failure(AuthorizationError("no"))

        assert isinstance(await UseCaseRunner(harness.uow).run(note, work), Failure)
        [entry] = await harness.committed_audit(user.id)
        assert (entry.action, entry.outcome, entry.reason) == (
            AuditAction.ADMIN_ACCESS_DENIED,
            AuditOutcome.DENIED,
            "not_an_admin",
        )

    async def test_a_failure_that_keeps_its_trace_commits_it_with_the_record(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("trace@example.com")
        note = note_for(user)

        async def work(uow: UnitOfWork) -> Result[User, Error]:
            await add(uow, user)  # stands for a counted attempt and its event
            note.keep_failure()
            note.failed_because("wrong_password")
            return Failure(ConflictError("wrong"))

        assert isinstance(await UseCaseRunner(harness.uow).run(note, work), Failure)
        assert await harness.committed_user(user.id) == user
        assert len(await harness.committed_events()) == 1
        [entry] = await harness.committed_audit(user.id)
        assert (entry.outcome, entry.reason) == (AuditOutcome.FAILED, "wrong_password")

    async def test_a_kept_trace_that_cannot_commit_still_leaves_the_record(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("lost@example.com")
        note = note_for(user)

        async def work(uow: UnitOfWork) -> Result[User, Error]:
            await add(uow, user)
            note.keep_failure()
            return Failure(ConflictError("wrong"))

        await harness.break_next_commit()  # the work itself does not commit: the trace does
        runner = UseCaseRunner(harness.uow, logger=harness.logger)
        assert isinstance(await runner.run(note, work), Failure)
        assert await harness.committed_user(user.id) is None
        [entry] = await harness.committed_audit(user.id)
        assert entry.outcome is AuditOutcome.FAILED
        assert "failure_trace_lost" in harness.logger.events("error")

    async def test_a_request_that_changes_nothing_commits_nothing(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("same@example.com")
        note = note_for(user)

        async def work(uow: UnitOfWork) -> Result[User, Error]:
            note.nothing_changed()
            return Success(user)

        assert await UseCaseRunner(harness.uow).run(note, work) == Success(user)
        assert await harness.committed_audit(user.id) == []

    async def test_a_step_without_a_success_action_commits_without_a_record(
        self, harness: UnitOfWorkHarness
    ) -> None:
        user = new_user("step@example.com")
        step = Audits(
            action=None,
            failed_action=AuditAction.USER_LOGIN_FAILED,
            resource_type=ResourceType.USER,
        )
        result = await UseCaseRunner(harness.uow).run(
            note_for(user, step), lambda uow: add(uow, user)
        )
        assert result == Success(user)
        assert await harness.committed_user(user.id) == user
        assert await harness.committed_audit(user.id) == []

    async def test_bad_input_is_recorded_before_any_work(self, harness: UnitOfWorkHarness) -> None:
        user = new_user("input@example.com")
        error = ConflictError("bad", code="weak_password")
        refused = await UseCaseRunner(harness.uow).refuse(note_for(user), error)
        assert refused == Failure(error)
        [entry] = await harness.committed_audit(user.id)
        assert (entry.action, entry.reason) == (
            AuditAction.USER_REGISTRATION_FAILED,
            "weak_password",
        )
