"""Checking the audit chain: one verifier for the live database and for an offline export.

The verifier is fed the chain in seal order (then the unsealed records) as plain documents,
so the same code judges ``dashtam audit verify`` and ``dashtam audit verify --file``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dashtam.infrastructure.audit.signing import (
    GENESIS_HASH,
    AuditKeyring,
    legacy_seal_hash,
    mac_is_valid,
    macs_match,
    seal_mac,
)


class Tampering(StrEnum):
    FORGED = "forged"  # a record whose MAC was not made by our key (inserted by hand)
    ALTERED = "altered"  # a sealed record whose content no longer matches its MAC
    REMOVED = "removed"  # a sealed record, or seals, or the chain's tail, are gone
    REORDERED = "reordered"  # seals out of order or not linked to their predecessor
    RESEALED = "resealed"  # a seal not made by our key (the chain was recomputed)
    CHECKPOINT = "checkpoint"  # an anchor that is not signed by a trusted key


@dataclass(frozen=True, slots=True)
class Problem:
    kind: Tampering
    detail: str
    record_id: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = [f"seal {self.seq}" if self.seq is not None else None, self.record_id]
        prefix = ", ".join(part for part in where if part)
        return f"{self.kind.value}: {prefix + ': ' if prefix else ''}{self.detail}"


@dataclass(frozen=True, slots=True)
class SealedItem:
    """One seal and its record's document (None when the record is gone)."""

    seq: int
    prev_hash: str
    hash: str
    key_id: str | None
    audit_id: str
    record: Mapping[str, Any] | None
    mac: str | None


@dataclass(slots=True)
class VerificationReport:
    sealed: int = 0
    legacy: int = 0
    unsealed: int = 0
    head: str = GENESIS_HASH
    last_seq: int = 0
    heads: dict[int, str] = field(default_factory=dict)  # seq -> hash, at anchored seqs only
    problems: list[Problem] = field(default_factory=list)
    checkpoints: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


class ChainVerifier:
    """Accumulates a report from the chain, the unsealed records and the anchors."""

    def __init__(self, keyring: AuditKeyring, checkpoints: Sequence[Checkpointed] = ()) -> None:
        self._keyring = keyring
        self.report = VerificationReport()
        self._keyed_seen = False
        self._checkpoints = list(checkpoints)
        # Only the heads that an anchor asks about are kept: a long chain stays cheap.
        self._anchored = {checkpoint.seq for checkpoint in self._checkpoints}

    def _problem(
        self, kind: Tampering, detail: str, *, record_id: str | None = None, seq: int | None = None
    ) -> None:
        self.report.problems.append(Problem(kind, detail, record_id=record_id, seq=seq))

    def check_sealed(self, item: SealedItem) -> None:
        """The next seal of the chain, in seal order."""
        report = self.report
        expected_seq = report.last_seq + 1
        if item.seq != expected_seq:
            self._problem(
                Tampering.REMOVED, f"seals {expected_seq}..{item.seq - 1} are missing", seq=item.seq
            )
        if item.prev_hash != report.head:
            self._problem(
                Tampering.REORDERED,
                "does not follow the previous seal",
                record_id=item.audit_id,
                seq=item.seq,
            )
        self._check_item(item)
        report.sealed += 1
        report.head, report.last_seq = item.hash, item.seq
        if item.seq in self._anchored:
            report.heads[item.seq] = item.hash

    def _check_item(self, item: SealedItem) -> None:
        if item.record is None:
            self._problem(
                Tampering.REMOVED,
                "the sealed record is gone",
                record_id=item.audit_id,
                seq=item.seq,
            )
        if item.key_id is None:
            self._check_legacy(item)
            return
        self._keyed_seen = True
        key = self._keyring.mac_keys.get(item.key_id)
        expected = (
            seal_mac(
                key,
                seq=item.seq,
                prev_hash=item.prev_hash,
                audit_id=item.audit_id,
                mac=item.mac or "",
            )
            if key is not None
            else None
        )
        if expected is None or not macs_match(expected, item.hash):
            self._problem(
                Tampering.RESEALED,
                "the seal was not made by a trusted key",
                record_id=item.audit_id,
                seq=item.seq,
            )
        if item.record is not None and not mac_is_valid(self._keyring, item.record, item.mac):
            self._problem(
                Tampering.ALTERED,
                "content does not match its MAC",
                record_id=item.audit_id,
                seq=item.seq,
            )

    def _check_legacy(self, item: SealedItem) -> None:
        self.report.legacy += 1
        if self._keyed_seen:
            # Legacy seals predate every keyed one: one after them is a forgery.
            self._problem(
                Tampering.RESEALED,
                "an unkeyed seal after keyed ones",
                record_id=item.audit_id,
                seq=item.seq,
            )
        elif item.record is not None and legacy_seal_hash(item.prev_hash, item.record) != item.hash:
            self._problem(
                Tampering.ALTERED,
                "content does not match its (legacy) seal",
                record_id=item.audit_id,
                seq=item.seq,
            )

    def check_unsealed(self, document: Mapping[str, Any], mac: str | None) -> None:
        """A record not sealed yet: only its MAC can vouch for it."""
        self.report.unsealed += 1
        if not mac_is_valid(self._keyring, document, mac):
            self._problem(
                Tampering.FORGED,
                "not sealed, and its MAC was not made by a trusted key",
                record_id=str(document.get("id")),
            )

    def finish(self) -> VerificationReport:
        """Judge the anchors against the chain read so far; the final report."""
        report = self.report
        for checkpoint in self._checkpoints:
            report.checkpoints += 1
            if not checkpoint.trusted:
                self._problem(
                    Tampering.CHECKPOINT,
                    f"checkpoint of {checkpoint.created_at} is not signed by a trusted key",
                    seq=checkpoint.seq,
                )
                continue
            if checkpoint.seq > report.last_seq:
                self._problem(
                    Tampering.REMOVED,
                    f"the checkpoint of {checkpoint.created_at} covers seal {checkpoint.seq} "
                    f"but the chain ends at seal {report.last_seq} (its tail was cut)",
                    seq=checkpoint.seq,
                )
            elif checkpoint.seq > 0 and report.heads.get(checkpoint.seq) != checkpoint.head:
                self._problem(
                    Tampering.RESEALED,
                    f"the chain no longer has the head the checkpoint of {checkpoint.created_at} "
                    "signed (history was rewritten)",
                    seq=checkpoint.seq,
                )
        return report


@dataclass(frozen=True, slots=True)
class Checkpointed:
    """A checkpoint read back from its file, with the verdict on its signature."""

    seq: int
    head: str
    created_at: str
    trusted: bool


class ExportFileError(Exception):
    """An export line that is not one of ours (the message is safe to print)."""


def verify_export(
    lines: Iterable[str], keyring: AuditKeyring, checkpoints: Sequence[Checkpointed] = ()
) -> VerificationReport:
    """Verify an auditor's copy (``dashtam audit export``) without the database."""
    verifier = ChainVerifier(keyring, checkpoints)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            record, seal = entry.get("record"), entry.get("seal")
            if seal is None:
                verifier.check_unsealed(record, entry.get("mac"))
                continue
            verifier.check_sealed(
                SealedItem(
                    seq=int(seal["seq"]),
                    prev_hash=str(seal["prev_hash"]),
                    hash=str(seal["hash"]),
                    key_id=seal.get("key_id"),
                    audit_id=str(entry["audit_id"]),
                    record=record,
                    mac=entry.get("mac"),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise ExportFileError(f"line {number} is not an audit export record") from None
    return verifier.finish()
