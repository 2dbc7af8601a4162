"""Audit trail table (append-only: the migration installs triggers refusing UPDATE/DELETE)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.infrastructure.persistence.base import BaseModel
from dashtam.infrastructure.persistence.types import JSONType


class AuditLogModel(BaseModel):
    """One audit record; ``created_at`` is WHEN the audited thing happened."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_resource", "resource_type", "resource_id"),
        Index("ix_audit_logs_actor_id", "actor_id"),
        Index("ix_audit_logs_created_at", "created_at"),
    )

    # No foreign key on actor/resource: the trail must outlive the rows it talks about.
    actor_id: Mapped[UUID | None] = mapped_column(nullable=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    resource_type: Mapped[str] = mapped_column(String(32), nullable=False)
    resource_id: Mapped[UUID | None] = mapped_column(nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    trace_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(128), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, nullable=False, default=dict
    )
    # HMAC of the record under the app's audit key (never in the database); NULL only on
    # records written before MACs existed, which the unkeyed legacy chain covers.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)

    @classmethod
    def from_entity(cls, entry: AuditEntry) -> AuditLogModel:
        return cls(
            id=entry.id,
            created_at=entry.occurred_at,
            actor_id=entry.actor_id,
            action=entry.action.value,
            outcome=entry.outcome.value,
            resource_type=entry.resource_type.value,
            resource_id=entry.resource_id,
            ip_address=entry.ip_address,
            user_agent=(entry.user_agent or "")[:512] or None,
            trace_id=entry.trace_id,
            reason=entry.reason,
            details=dict(entry.metadata),
        )

    def to_entity(self) -> AuditEntry:
        return AuditEntry(
            id=self.id,
            occurred_at=self.created_at,
            actor_id=self.actor_id,
            action=AuditAction(self.action),
            outcome=AuditOutcome(self.outcome),
            resource_type=ResourceType(self.resource_type),
            resource_id=self.resource_id,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            trace_id=self.trace_id,
            reason=self.reason,
            metadata=dict(self.details),
        )
