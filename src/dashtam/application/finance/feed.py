"""The transactions sync feed (docs/feed.md): a page of what changed since a client's position,
the caller's own transactions only, audited like every other read of financial data."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from dashtam.application.lifecycle import Audits, ReadRunner
from dashtam.application.reads import ReadAuditLog, ReadUnitOfWork, ReadUnitOfWorkFactory
from dashtam.core.errors import Error
from dashtam.core.result import Result, Success
from dashtam.domain.audit import AuditAction, AuditContext, ResourceType
from dashtam.domain.transactions.feed import FeedPage, FeedPosition

DEFAULT_FEED_PAGE = 100
MAX_FEED_PAGE = 500

_READ = Audits(action=AuditAction.FINANCIAL_DATA_READ, resource_type=ResourceType.TRANSACTION)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadTransactionFeed:
    """``since`` None: from the beginning (every current transaction is sent as added)."""

    user_id: UUID
    since: FeedPosition | None
    limit: int
    context: AuditContext


class TransactionFeedQueries:
    def __init__(self, *, uow_factory: ReadUnitOfWorkFactory, audit_log: ReadAuditLog) -> None:
        self._runner = ReadRunner(uow_factory, audit_log=audit_log)

    async def page(self, query: ReadTransactionFeed) -> Result[FeedPage, Error]:
        limit = max(1, min(query.limit, MAX_FEED_PAGE))
        note = _READ.note(query.context, view="transaction_feed")

        async def read(uow: ReadUnitOfWork) -> Result[FeedPage, Error]:
            found = await uow.feed.page(query.user_id, query.since, limit=limit)
            if isinstance(found, Success):
                page = found.value
                note.on_success(
                    added=len(page.added), modified=len(page.modified), removed=len(page.removed)
                )
            return found

        return await self._runner.read(note, read)
