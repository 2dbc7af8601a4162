"""Audit trail adapters."""

from dashtam.infrastructure.audit.sql_audit import SqlAuditTrail

__all__ = ["SqlAuditTrail"]
