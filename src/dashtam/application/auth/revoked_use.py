"""The use of a revoked (or expired) token, on the audit trail: DENIED, at a bounded rate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from dashtam.application.lifecycle import Audits, UseCaseRunner
from dashtam.application.unit_of_work import UnitOfWorkFactory
from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType

# Forget every token at once past this many (a bound, not an LRU, like the verified-JWT cache).
_CAPACITY = 10_000


class RevokedTokenUse:
    """Records ``token.revoked_used`` (DENIED) naming the token's id, never its text.

    Only a token that proves itself gets here (a valid signature, or a digest that is stored),
    so a stranger cannot write records at will. Its holder could replay it once per request:
    each token is recorded at most once per ``interval`` in this process, so a script left
    running with a revoked token leaves a trace, not a flood. App-scoped (one per container).
    """

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Callable[[], datetime] = utcnow,
        interval: timedelta = timedelta(minutes=1),
    ) -> None:
        self._runner = UseCaseRunner(uow_factory)
        self._clock = clock
        self._interval = interval
        self._recorded_at: dict[UUID, datetime] = {}

    async def record(
        self,
        error: Error,
        *,
        resource_type: ResourceType,
        resource_id: UUID,
        user_id: UUID,
        reason: str,
        context: AuditContext,
        **metadata: object,
    ) -> None:
        now = self._clock()
        last = self._recorded_at.get(resource_id)
        if last is not None and now - last < self._interval:
            return
        if len(self._recorded_at) >= _CAPACITY:
            self._recorded_at.clear()
        # Claimed before the write (no await in between): concurrent uses record once.
        self._recorded_at[resource_id] = now
        audits = Audits(action=AuditAction.REVOKED_TOKEN_USED, resource_type=resource_type)
        note = audits.note(context, resource_id=resource_id, actor_id=user_id, **metadata)
        note.refused(reason=reason)
        await self._runner.refuse(note, error)
