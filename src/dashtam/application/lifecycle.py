"""The one lifecycle of every use case: a transaction, its audit record, and its failure.

A handler does only its domain work, inside a ``UseCaseRunner.run``; the runner owns the rest:

* it opens the unit of work and hands it to the work;
* on success it adds the SUCCEEDED audit record and commits business rows, audit records and
  outbox events in one transaction;
* on any failure (the work's own, or the commit's) it rolls back and records the FAILED or
  DENIED record in a transaction of its own, so a failure is on the trail even when the
  database refused the work. It returns the ``Result`` the caller sees.

What a use case records is declared once (``Audits``); a run fills in what only it learns (the
resource, safe metadata) on an ``AuditNote``. Reads go through a ``ReadRunner`` with the
audited-read policy: no write lock, the record handed to the buffered read log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from dashtam.application.reads import ReadAuditLog, ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.core.errors import AuthorizationError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.protocols.logger import LoggerProtocol

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Audits:
    """What a use case records, declared beside its handler.

    ``action`` is recorded when it succeeds (``None``: a step whose success another record
    tells), ``failed_action`` when it fails (default: ``action``).
    """

    action: AuditAction | None
    resource_type: ResourceType
    failed_action: AuditAction | None = None
    failure_event: str | None = None  # the log line of a failure, if the feature logs one

    def note(
        self,
        context: AuditContext,
        *,
        resource_id: UUID | None = None,
        actor_id: UUID | None = None,
        **metadata: object,
    ) -> AuditNote:
        return AuditNote(
            audits=self,
            context=context,
            resource_type=self.resource_type,
            resource_id=resource_id,
            actor_id=actor_id,
            metadata=dict(metadata),
        )


@dataclass(slots=True, kw_only=True)
class AuditNote:
    """One run's record in the making: the handler adds what it learns, the runner writes it."""

    audits: Audits
    context: AuditContext
    resource_type: ResourceType
    resource_id: UUID | None = None
    actor_id: UUID | None = None
    metadata: dict[str, object] = field(default_factory=dict)  # kept whatever the outcome
    success_metadata: dict[str, object] = field(default_factory=dict)
    success_resource: tuple[ResourceType, UUID] | None = None
    success_actor: UUID | None = None
    failure_action: AuditAction | None = None
    failure_outcome: AuditOutcome = AuditOutcome.FAILED
    failure_reason: str | None = None
    keeps_failure: bool = False
    changed_nothing: bool = False

    def on_success(
        self,
        *,
        resource: tuple[ResourceType, UUID] | None = None,
        actor_id: UUID | None = None,
        **metadata: object,
    ) -> None:
        """What only a success records: metadata, and the resource (and actor) it created."""
        if resource is not None:
            self.success_resource = resource
        if actor_id is not None:
            self.success_actor = actor_id
        self.success_metadata.update(metadata)

    def refused(self, *, action: AuditAction | None = None, reason: str | None = None) -> None:
        """The failure is a refusal (a policy said no): recorded as DENIED."""
        self.failure_outcome = AuditOutcome.DENIED
        self.failure_action = action or self.failure_action
        self.failure_reason = reason or self.failure_reason

    def failed_because(self, reason: str) -> None:
        """The recorded reason, when it says more than the error's code."""
        self.failure_reason = reason

    def keep_failure(self) -> None:
        """The work done so far is the failure's own trace (a counted attempt, an event):
        commit it with the failure record instead of rolling it back."""
        self.keeps_failure = True

    def nothing_changed(self) -> None:
        """The request asked for what already is: a success with nothing to record."""
        self.changed_nothing = True

    def succeeded(self) -> AuditEntry | None:
        if self.audits.action is None or self.changed_nothing:
            return None
        resource_type, resource_id = self.success_resource or (
            self.resource_type,
            self.resource_id,
        )
        return AuditEntry.of(
            self.context,
            action=self.audits.action,
            outcome=AuditOutcome.SUCCEEDED,
            resource_type=resource_type,
            resource_id=resource_id,
            actor_id=self.success_actor or self.actor_id,
            metadata={**self.metadata, **self.success_metadata},
        )

    def failed(self, error: Error) -> AuditEntry:
        action = self.failure_action or self.audits.failed_action or self.audits.action
        if action is None:
            raise ValueError(f"{self.audits!r} declares no action to record a failure under")
        metadata = dict(self.metadata)
        if "location" in error.details:  # where in the input, e.g. "line 12" or "STMTTRN #3"
            metadata["location"] = str(error.details["location"])[:200]
        return AuditEntry.of(
            self.context,
            action=action,
            outcome=self.failure_outcome,
            resource_type=self.resource_type,
            resource_id=self.resource_id,
            actor_id=self.actor_id,
            reason=self.failure_reason or error.code,
            metadata=metadata,
        )


def found(loaded: Result[T | None, Error], what: str) -> Result[T, Error]:
    """``loaded``, with nothing found turned into "<what> not found" (someone else's alike)."""
    match loaded:
        case Success(None):
            return Failure(NotFoundError(f"{what} not found"))
        case Success(value) if value is not None:
            return Success(value)
        case Failure() as failed:
            return failed
    raise AssertionError("unreachable: a Result is a Success or a Failure")


Work = Callable[[UnitOfWork], Awaitable[Result[T, Error]]]
ReadWork = Callable[[ReadUnitOfWork], Awaitable[Result[T, Error]]]


class UseCaseRunner:
    """Runs a use case's work in one transaction and writes its audit record, either way."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, *, logger: LoggerProtocol | None = None
    ) -> None:
        self._uow_factory = uow_factory
        self._logger = logger

    async def run(self, note: AuditNote, work: Work[T]) -> Result[T, Error]:
        async with self._uow_factory() as uow:
            match await work(uow):
                case Success() as done if note.changed_nothing:
                    return done  # nothing to commit, nothing to record
                case Success() as done:
                    entry = note.succeeded()
                    if entry is not None:
                        uow.audit(entry)
                    match await uow.commit():
                        case Failure(error):
                            return await self._failed(uow, note, error)
                    return done
                case Failure(error):
                    return await self._failed(uow, note, error)
        raise AssertionError("unreachable: a Result is a Success or a Failure")

    async def refuse(self, note: AuditNote, error: Error) -> Failure[Error]:
        """A failure found before any transaction (bad input): recorded all the same."""
        async with self._uow_factory() as uow:
            return await self._failed(uow, note, error)

    async def _failed(self, uow: UnitOfWork, note: AuditNote, error: Error) -> Failure[Error]:
        entry = note.failed(error)
        if note.keeps_failure:
            uow.audit(entry)
            match await uow.commit():
                case Success():
                    self._log_failure(note, error)
                    return Failure(error)
                case Failure(lost):
                    # The trace could not be stored: the failure record must still be written.
                    if self._logger is not None:
                        self._logger.error("failure_trace_lost", code=lost.code)
        await self.record_failure(uow, entry)
        self._log_failure(note, error)
        return Failure(error)

    @staticmethod
    async def record_failure(uow: UnitOfWork, entry: AuditEntry) -> None:
        """The only place a write's failure reaches the trail: after its work is rolled back."""
        await uow.audit_after_rollback(entry)

    def _log_failure(self, note: AuditNote, error: Error) -> None:
        if self._logger is not None and note.audits.failure_event is not None:
            because = {"reason": note.failure_reason} if note.failure_reason else {}
            self._logger.info(note.audits.failure_event, code=error.code, **because)


class ReadRunner:
    """Runs a read in a read-only transaction, with the audited-read policy.

    A read that succeeds hands its record to the read audit log (a refusal by the log fails
    the read: no record, no answer). A read refused because the caller asked for what is not
    theirs is recorded as FAILED (a probe is worth knowing about); one that failed because the
    database did is not, the boundary logged it. ``note=None``: a read that is not audited
    (checking the caller's own token).
    """

    def __init__(
        self, uow_factory: ReadUnitOfWorkFactory, *, audit_log: ReadAuditLog | None = None
    ) -> None:
        self._uow_factory = uow_factory
        self._audit_log = audit_log

    async def read(self, note: AuditNote | None, work: ReadWork[T]) -> Result[T, Error]:
        async with self._uow_factory() as uow:
            result = await work(uow)
            match result:
                case Failure(NotFoundError() | AuthorizationError() as refusal) if note:
                    await uow.audit_after_rollback(note.failed(refusal))
        entry = note.succeeded() if note is not None and isinstance(result, Success) else None
        if entry is None:
            return result
        if self._audit_log is None:
            raise ValueError("an audited read needs a read audit log")
        # After the read's transaction has ended: waiting for room in a full log must not
        # hold a connection.
        match await self._audit_log.record(entry):
            case Failure() as refused:
                return refused
        return result
