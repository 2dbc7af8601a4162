"""In-memory ``ReadAuditLog``: accepts read records as the buffered adapter does, then flushes."""

from __future__ import annotations

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.audit import AuditEntry
from tests.fakes.audit import as_stored
from tests.fakes.unit_of_work import FakeStore


class FakeReadAuditLog:
    """Records wait in ``pending`` until ``flush()`` writes them to the store's audit log.

    ``auto_flush`` (the default) writes each at once, so tests that only look at the store's
    audit log see reads like any other record. A fault on ``read_audit.record`` is a refusal
    (what a full buffer over an unwritable database answers).
    """

    def __init__(self, store: FakeStore, *, auto_flush: bool = True) -> None:
        self._store = store
        self._auto_flush = auto_flush
        self.pending: list[AuditEntry] = []
        self.accepted: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> Result[None, Error]:
        if (fault := self._store.faults.take("read_audit.record")) is not None:
            return Failure(fault)
        self.accepted.append(entry)
        self.pending.append(entry)
        if self._auto_flush:
            self.flush()
        return Success(None)

    def flush(self) -> int:
        batch, self.pending = self.pending, []
        self._store.audit_log.extend(as_stored(entry) for entry in batch)
        return len(batch)
