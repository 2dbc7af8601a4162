"""Port: the audit trail (append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.audit.entities import AuditAction, AuditEntry


class AuditProtocol(Protocol):
    """Records audit entries; nothing can change or remove one afterwards."""

    async def record(self, entry: AuditEntry) -> Result[None, Error]: ...

    async def list_for_resource(
        self, resource_id: UUID, *, action: AuditAction | None = None
    ) -> Result[Sequence[AuditEntry], Error]: ...
