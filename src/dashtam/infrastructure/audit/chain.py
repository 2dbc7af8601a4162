"""Tamper evidence for the audit trail: a SHA-256 hash chain, sealed after commit.

Business transactions only INSERT audit rows. A sealer, later and one at a time, appends a
seal per unsealed record: ``hash = sha256(prev_hash || canonical(record))``. The sealer's lock
is its own (a PostgreSQL advisory lock), so no business write ever waits for the chain.
``verify`` recomputes the chain: an altered record, a removed one, or a reordered or
missing seal breaks it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.audit_seals import AuditSealModel

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same in every process that seals.
_SEALER_LOCK_ID = 0x4441534854414D  # "DASHTAM"
_BATCH = 1000


def canonical(record: AuditLogModel) -> bytes:
    """The record's content as stable bytes: sorted keys, UTC times, no whitespace."""
    document: dict[str, Any] = {
        "id": str(record.id),
        "created_at": record.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(record.actor_id) if record.actor_id else None,
        "action": record.action,
        "outcome": record.outcome,
        "resource_type": record.resource_type,
        "resource_id": str(record.resource_id) if record.resource_id else None,
        "ip_address": record.ip_address,
        "user_agent": record.user_agent,
        "trace_id": record.trace_id,
        "reason": record.reason,
        "metadata": record.details,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, record: AuditLogModel) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(record)).hexdigest()


@dataclass(slots=True)
class VerificationReport:
    sealed: int = 0
    unsealed: int = 0
    head: str = GENESIS_HASH  # keep a copy outside the database: it exposes truncation too
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


class AuditChain:
    def __init__(self, *, database: Database, logger: LoggerProtocol | None = None) -> None:
        self._database = database
        self._logger: LoggerProtocol = logger or get_logger("dashtam.audit")

    async def seal_pending(self, *, batch_size: int = _BATCH) -> int:
        """Seal committed, unsealed records (oldest first); returns how many were sealed."""
        sealed = 0
        while True:
            async with self._database.transaction() as session:
                count = await self._seal_batch(session, batch_size)
            sealed += count
            if count < batch_size:
                return sealed

    async def _seal_batch(self, session: AsyncSession, batch_size: int) -> int:
        if self._database.dialect_name == "postgresql":
            await session.execute(select(func.pg_advisory_xact_lock(_SEALER_LOCK_ID)))
        last = (
            await session.execute(
                select(AuditSealModel.seq, AuditSealModel.hash)
                .order_by(AuditSealModel.seq.desc())
                .limit(1)
            )
        ).first()
        seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
        pending = (
            await session.scalars(
                select(AuditLogModel)
                .outerjoin(AuditSealModel, AuditSealModel.audit_id == AuditLogModel.id)
                .where(AuditSealModel.id.is_(None))
                .order_by(AuditLogModel.created_at, AuditLogModel.id)
                .limit(batch_size)
            )
        ).all()
        for record in pending:
            seq += 1
            digest = chain_hash(prev_hash, record)
            session.add(
                AuditSealModel(audit_id=record.id, seq=seq, prev_hash=prev_hash, hash=digest)
            )
            prev_hash = digest
        return len(pending)

    async def seal_until(self, stop: asyncio.Event, *, interval: float) -> None:
        """Keep sealing new records every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.seal_pending()
            except DB_ERRORS as exc:
                # The next round retries; records stay safe (append-only) meanwhile.
                self._logger.error("audit_sealing_failed", code=classify(exc).code)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def verify(self) -> VerificationReport:
        report = VerificationReport()
        expected_prev, expected_seq = GENESIS_HASH, 1
        async for seal, record in self._sealed_records():
            report.sealed += 1
            where = f"seal {seal.seq}"
            if seal.seq != expected_seq:
                report.problems.append(f"{where}: expected seal {expected_seq} (a seal is missing)")
            if seal.prev_hash != expected_prev:
                report.problems.append(f"{where}: does not follow the previous seal (reordered)")
            if record is None:
                report.problems.append(f"{where}: audit record {seal.audit_id} was removed")
            elif chain_hash(seal.prev_hash, record) != seal.hash:
                report.problems.append(f"{where}: audit record {record.id} was altered")
            expected_prev, expected_seq = seal.hash, seal.seq + 1
        report.head = expected_prev
        async with self._database.get_session() as session:
            report.unsealed = int(
                await session.scalar(
                    select(func.count())
                    .select_from(AuditLogModel)
                    .outerjoin(AuditSealModel, AuditSealModel.audit_id == AuditLogModel.id)
                    .where(AuditSealModel.id.is_(None))
                )
                or 0
            )
        return report

    async def _sealed_records(
        self,
    ) -> AsyncIterator[tuple[AuditSealModel, AuditLogModel | None]]:
        after = 0
        while True:
            async with self._database.get_session() as session:
                rows = (
                    await session.execute(
                        select(AuditSealModel, AuditLogModel)
                        .outerjoin(AuditLogModel, AuditLogModel.id == AuditSealModel.audit_id)
                        .where(AuditSealModel.seq > after)
                        .order_by(AuditSealModel.seq)
                        .limit(_BATCH)
                    )
                ).all()
            for seal, record in rows:
                yield seal, record
            if len(rows) < _BATCH:
                return
            after = rows[-1][0].seq

    async def export(self) -> AsyncIterator[dict[str, Any]]:
        """Every record in chain order (sealed first), with its seal, as JSON-ready dicts."""
        async for seal, record in self._sealed_records():
            if record is None:
                continue
            document = json.loads(canonical(record))
            document["seal"] = {"seq": seal.seq, "prev_hash": seal.prev_hash, "hash": seal.hash}
            yield document
