"""The audit chain: keyed seals appended after commit, verification, export and checkpoints.

Business transactions only INSERT audit rows, each carrying its MAC. A sealer, later and one
at a time, appends a seal per unsealed record whose MAC is ours, and refuses (and reports)
any other. The sealer's lock is its own (a PostgreSQL advisory lock; SQLite's single writer),
so no business write ever waits for the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.protocols.logger import LoggerProtocol
from dashtam.infrastructure.audit.checkpoints import append_checkpoint, make_checkpoint
from dashtam.infrastructure.audit.signing import (
    GENESIS_HASH,
    AuditRecordSigner,
    mac_is_valid,
    record_document,
    seal_mac,
    values_document,
)
from dashtam.infrastructure.audit.verification import (
    ChainVerifier,
    Checkpointed,
    SealedItem,
    VerificationReport,
)
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.core_insert import insert_values
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.audit_seals import AuditSealModel

# Any constant works; it only has to be the same in every process that seals.
_SEALER_LOCK_ID = 0x4441534854414D  # "DASHTAM"
_BATCH = 1000
# Records a sealer reads, checks and seals before it lets the event loop run others.
SEALS_PER_TURN = 50
# Forged records stay in the append-only table forever; report each once per process.
_MAX_REMEMBERED_REFUSALS = 10_000


@dataclass(slots=True)
class SealOutcome:
    sealed: int = 0
    refused: list[str] = field(default_factory=list)  # ids of records with a wrong MAC


class AuditChain:
    def __init__(
        self,
        *,
        database: Database,
        signer: AuditRecordSigner,
        logger: LoggerProtocol | None = None,
    ) -> None:
        self._database = database
        self._signer = signer
        self._logger: LoggerProtocol = logger or get_logger("dashtam.audit")
        self._reported: set[str] = set()

    @property
    def signer(self) -> AuditRecordSigner:
        return self._signer

    async def seal_pending(self, *, batch_size: int = _BATCH) -> SealOutcome:
        """Seal committed records whose MAC is ours (oldest first); refuse and report others."""
        outcome = SealOutcome()
        after: tuple[datetime, Any] | None = None
        while True:
            async with self._database.transaction() as session:
                count, after = await self._seal_batch(session, batch_size, after, outcome)
            if count < batch_size:
                return outcome

    async def _seal_batch(
        self,
        session: AsyncSession,
        batch_size: int,
        after: tuple[datetime, Any] | None,
        outcome: SealOutcome,
    ) -> tuple[int, tuple[datetime, Any] | None]:
        if self._database.dialect_name == "postgresql":
            await session.execute(select(func.pg_advisory_xact_lock(_SEALER_LOCK_ID)))
        seq, prev_hash = await self._chain_end(session)
        # Refused records stay unsealed: page past them instead of reading them forever.
        # Read, checked and sealed a few at a time: the sealer shares the event loop with
        # requests, and 1,000 records loaded and checked in one go held every request behind
        # them (100 ms and more on SQLite); each partition's fetch lets the others run.
        # Records as Core rows and each partition's seals as one batch insert: a sealer in the
        # API seals every read's record, and ORM instances of both cost more than checking and
        # chaining them.
        found = await session.stream(
            _unsealed_rows_after(after)
            .limit(batch_size)
            .execution_options(yield_per=SEALS_PER_TURN)
        )
        keyring = self._signer.keyring
        count, last = 0, after
        async for records in found.partitions():
            seals: list[dict[str, Any]] = []
            count += len(records)
            last = (records[-1].created_at, records[-1].id)
            for record in records:
                if not mac_is_valid(keyring, values_document(record._mapping), record.mac):
                    self._refuse(record, outcome)
                    continue
                seq += 1
                digest = seal_mac(
                    keyring.current_mac_key,
                    seq=seq,
                    prev_hash=prev_hash,
                    audit_id=str(record.id),
                    mac=record.mac or "",
                )
                seals.append(
                    {
                        "id": new_id(),
                        "created_at": utcnow(),
                        "audit_id": record.id,
                        "seq": seq,
                        "prev_hash": prev_hash,
                        "hash": digest,
                        "key_id": keyring.current_key_id,
                    }
                )
                prev_hash = digest
            if seals:
                await insert_values(session, [(AuditSealModel, seals)])
                outcome.sealed += len(seals)
        return count, last

    def _refuse(self, record: Row[Any], outcome: SealOutcome) -> None:
        record_id = str(record.id)
        outcome.refused.append(record_id)
        if record_id in self._reported:
            return
        if len(self._reported) < _MAX_REMEMBERED_REFUSALS:
            self._reported.add(record_id)
        # Someone wrote to the trail without the app's key: an alarm, not a routine error.
        self._logger.error(
            "audit_record_forged",
            audit_id=record_id,
            action=record.action,
            created_at=record.created_at.isoformat(),
        )

    @staticmethod
    async def _chain_end(session: AsyncSession) -> tuple[int, str]:
        last = (
            await session.execute(
                select(AuditSealModel.seq, AuditSealModel.hash)
                .order_by(AuditSealModel.seq.desc())
                .limit(1)
            )
        ).first()
        return (int(last.seq), str(last.hash)) if last else (0, GENESIS_HASH)

    async def checkpoint(self) -> dict[str, Any]:
        """A signed statement of the chain's current end (seal and checkpoint are separate)."""
        async with self._database.get_session() as session:
            seq, head = await self._chain_end(session)
        return make_checkpoint(self._signer.keyring, seq=seq, head=head, created_at=utcnow())

    async def seal_until(
        self,
        stop: asyncio.Event,
        *,
        interval: float,
        checkpoint_interval: float = 0,
        checkpoint_path: str | None = None,
    ) -> None:
        """Seal new records every ``interval`` seconds, checkpoint now and then, until ``stop``."""
        loop = asyncio.get_running_loop()
        next_checkpoint = loop.time() + checkpoint_interval
        last_anchored: int | None = None
        while not stop.is_set():
            try:
                await self.seal_pending()
                if checkpoint_path and checkpoint_interval > 0 and loop.time() >= next_checkpoint:
                    next_checkpoint = loop.time() + checkpoint_interval
                    last_anchored = await self._checkpoint_if_moved(checkpoint_path, last_anchored)
            except DB_ERRORS as exc:
                # The next round retries; records stay safe (append-only) meanwhile.
                self._logger.error("audit_sealing_failed", code=classify(exc).code)
            except OSError as exc:
                self._logger.error("audit_checkpoint_failed", error_type=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def _checkpoint_if_moved(self, path: str, last_anchored: int | None) -> int:
        document = await self.checkpoint()
        if document["seq"] != last_anchored:
            append_checkpoint(path, document)
            self._logger.info("audit_checkpoint_written", seq=document["seq"])
        seq: int = document["seq"]
        return seq

    async def verify(self, checkpoints: list[Checkpointed] | None = None) -> VerificationReport:
        """Read-only: the whole chain, then every unsealed record, then the anchors."""
        verifier = ChainVerifier(self._signer.keyring, checkpoints or [])
        async for seal, record in self._sealed_records():
            verifier.check_sealed(_item(seal, record))
        async for record in self._unsealed_records():
            verifier.check_unsealed(record_document(record), record.mac)
        return verifier.finish()

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

    async def _unsealed_records(self) -> AsyncIterator[AuditLogModel]:
        after: tuple[datetime, Any] | None = None
        while True:
            async with self._database.get_session() as session:
                unsealed = _unsealed_rows_after(after).limit(_BATCH)
                records = select(AuditLogModel).from_statement(unsealed)
                rows = (await session.scalars(records)).all()
            for record in rows:
                yield record
            if len(rows) < _BATCH:
                return
            after = (rows[-1].created_at, rows[-1].id)

    async def export(self) -> AsyncIterator[dict[str, Any]]:
        """Every record (sealed ones in chain order, then unsealed), with its MAC and seal."""
        async for seal, record in self._sealed_records():
            yield {
                "record": record_document(record) if record is not None else None,
                "audit_id": str(seal.audit_id),
                "mac": record.mac if record is not None else None,
                "seal": {
                    "seq": seal.seq,
                    "prev_hash": seal.prev_hash,
                    "hash": seal.hash,
                    "key_id": seal.key_id,
                },
            }
        async for record in self._unsealed_records():
            yield {
                "record": record_document(record),
                "audit_id": str(record.id),
                "mac": record.mac,
                "seal": None,
            }


def _unsealed_rows_after(after: tuple[datetime, Any] | None) -> Select[Any]:
    """Unsealed records, oldest first, after the (created_at, id) position ``after``, as Core
    rows: the tables' columns only (an ORM attribute anywhere in it would make it an ORM
    statement). Export loads the same statement as records (``from_statement``)."""
    audit = cast(Table, AuditLogModel.__table__)
    seals = cast(Table, AuditSealModel.__table__)
    query = (
        select(audit).outerjoin(seals, seals.c.audit_id == audit.c.id).where(seals.c.id.is_(None))
    )
    if after is not None:
        query = query.where(
            or_(
                audit.c.created_at > after[0],
                and_(audit.c.created_at == after[0], audit.c.id > after[1]),
            )
        )
    return query.order_by(audit.c.created_at, audit.c.id)


def _item(seal: AuditSealModel, record: AuditLogModel | None) -> SealedItem:
    return SealedItem(
        seq=seal.seq,
        prev_hash=seal.prev_hash,
        hash=seal.hash,
        key_id=seal.key_id,
        audit_id=str(seal.audit_id),
        record=record_document(record) if record is not None else None,
        mac=record.mac if record is not None else None,
    )
