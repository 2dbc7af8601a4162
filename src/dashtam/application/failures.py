"""Recording a use case's failure: roll back its work, then audit in a transaction of its own."""

from __future__ import annotations

from dashtam.application.unit_of_work import UnitOfWork, UnitOfWorkFactory
from dashtam.domain.audit import AuditEntry


async def record_failure(
    uow_factory: UnitOfWorkFactory, uow: UnitOfWork | None, entry: AuditEntry
) -> None:
    """Record a FAILED/DENIED entry after rolling back the use case's own work, if any."""
    if uow is not None:
        await uow.record_failure(entry)
        return
    async with uow_factory() as failure_uow:
        await failure_uow.record_failure(entry)
