"""SQL adapter of the ``AuditProtocol`` port."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.core.tracing import get_trace_id
from dashtam.domain.audit import AuditAction, AuditEntry
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.audit.signing import AuditRecordSigner
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel


class SqlAuditTrail:
    """Writes audit rows in the caller's session, so they commit (or not) with the change."""

    def __init__(self, *, session: AsyncSession, signer: AuditRecordSigner) -> None:
        self._session = session
        self._signer = signer

    async def record(self, entry: AuditEntry) -> Result[None, Error]:
        try:
            self._session.add(self._signer.row(entry))
            await self._session.flush()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(None)

    async def list_for_resource(
        self, resource_id: UUID, *, action: AuditAction | None = None
    ) -> Result[Sequence[AuditEntry], Error]:
        query = select(AuditLogModel).where(AuditLogModel.resource_id == resource_id)
        if action is not None:
            query = query.where(AuditLogModel.action == action.value)
        try:
            rows = (await self._session.scalars(query.order_by(AuditLogModel.id))).all()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success([row.to_entity() for row in rows])


async def record_on_its_own(
    entry: AuditEntry, *, database: Database, signer: AuditRecordSigner, logger: LoggerProtocol
) -> Result[None, Error]:
    """Record ``entry`` (a FAILED or DENIED outcome) in a short transaction of its own.

    Losing such a record must be loud: it is the trail of an attempted action.
    """
    try:
        async with database.transaction() as session:
            recorded = await SqlAuditTrail(session=session, signer=signer).record(entry)
            if isinstance(recorded, Failure):
                raise _AuditWriteError(recorded.error)  # rolls the transaction back
    except _AuditWriteError as exc:
        error, error_type = exc.error, type(exc.error).__name__
    except DB_ERRORS as exc:
        error, error_type = classify(exc), type(exc).__name__
    else:
        return Success(None)
    logger.error(
        "audit_failure_record_lost",
        code=error.code,
        error_type=error_type,
        action=entry.action.value,
        outcome=entry.outcome.value,
        trace_id=get_trace_id(),
    )
    return Failure(error)


class _AuditWriteError(Exception):
    def __init__(self, error: Error) -> None:
        super().__init__(error.code)
        self.error = error
