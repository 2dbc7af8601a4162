"""Audit trail vocabulary and port."""

from dashtam.domain.audit.entities import (
    AuditAction,
    AuditContext,
    AuditEntry,
    AuditOutcome,
    ResourceType,
    scrub_metadata,
)
from dashtam.domain.audit.protocol import AuditProtocol

__all__ = [
    "AuditAction",
    "AuditContext",
    "AuditEntry",
    "AuditOutcome",
    "AuditProtocol",
    "ResourceType",
    "scrub_metadata",
]
