"""SQL adapter of the ``AuditProtocol`` port."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditAction, AuditEntry
from dashtam.infrastructure.audit.signing import AuditRecordSigner
from dashtam.infrastructure.errors import DB_ERRORS, classify
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
