"""Commands and results of live connections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from dashtam.domain.audit import AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectLiveSource:
    user_id: UUID
    provider: str
    label: str
    # The one-time token the user copied from their bridge: never logged, never stored.
    setup_token: str = field(repr=False)
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncConnection:
    """``user_id=None``: the scheduler's sync, of whoever owns the connection."""

    connection_id: UUID
    context: AuditContext
    user_id: UUID | None = None
    # The scheduler holds the connection's claim already; a user's sync takes its own.
    claimed_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport:
    connection_id: UUID
    status: str
    window_start: datetime
    window_end: datetime
    requests: int
    accounts: int
    transactions_new: int
    transactions_updated: int
    transactions_unchanged: int
    transactions_removed: int
    balance_snapshots_added: int
    holdings_added: int
    # What the source asked to show the user (reauthenticate, an account not updated).
    messages: tuple[str, ...] = ()
    skipped: Mapping[str, int] = field(default_factory=dict)
