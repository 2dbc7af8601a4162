"""Commands, queries and results of the financial-data feature."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from uuid import UUID

from dashtam.domain.audit import AuditContext
from dashtam.domain.imports.statement import CsvOptions
from dashtam.domain.transactions.repository import TransactionCursor, TransactionQuery

MAX_TRANSACTION_PAGE = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateConnection:
    user_id: UUID
    provider: str
    label: str
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectConnection:
    user_id: UUID
    connection_id: UUID
    purge: bool
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class NewConnection:
    """Import into a connection created with the import: it exists only if the import does.

    ``provider=None``: the file provider that reads the file's content. ``only_if_first``:
    refuse (``connection_required``) when the user already has an active connection of that
    provider, so that a second bank's file is never merged into the first bank's accounts.
    """

    label: str
    provider: str | None = None
    only_if_first: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportStatement:
    """Into ``connection_id``, or into ``new_connection`` (exactly one of them)."""

    user_id: UUID
    connection_id: UUID | None = None
    new_connection: NewConnection | None = None
    data: bytes = field(repr=False)
    filename: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    context: AuditContext
    # Called with (transactions written, transactions in the file) after each batch (the
    # CLI's progress bar); nothing is visible to others before the single commit.
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    connection_id: UUID
    format: str
    accounts_created: int
    accounts_updated: int
    transactions_new: int
    transactions_updated: int
    transactions_unchanged: int
    balance_snapshots_added: int
    # Rows a newer statement wrote already: left as they are, not reverted.
    transactions_outdated: int = 0
    # What the file held that was not imported, and why: {"open orders": 1}.
    skipped: Mapping[str, int] = field(default_factory=dict)
    holdings_added: int = 0
    investment_transactions_new: int = 0
    investment_transactions_updated: int = 0
    investment_transactions_unchanged: int = 0
    investment_transactions_outdated: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteAccount:
    user_id: UUID
    account_id: UUID
    context: AuditContext


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchTransactions:
    query: TransactionQuery
    after: TransactionCursor | None
    limit: int
    context: AuditContext
