"""The hash chain over the audit trail (append-only, like the trail itself)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.infrastructure.persistence.base import BaseModel


class AuditSealModel(BaseModel):
    """Seal ``seq`` of the chain: ``hash = HMAC(key, seq, prev_hash, record id, record MAC)``.

    ``key_id`` NULL marks a legacy seal (``sha256(prev_hash + canonical record)``), made before
    records carried MACs; such seals may only precede every keyed one.

    Records are sealed after they commit, by one sealer at a time (its own lock), so no
    business write ever waits for the chain.
    """

    __tablename__ = "audit_seals"

    audit_id: Mapped[UUID] = mapped_column(ForeignKey("audit_logs.id"), nullable=False, unique=True)
    seq: Mapped[int] = mapped_column(BigInteger(), nullable=False, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
