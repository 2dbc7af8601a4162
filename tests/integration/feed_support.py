"""Helpers for the sync feed tests: pull pages into a client's mirror, read the truth."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select

from dashtam.bootstrap import Container
from dashtam.core.result import Success
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.feed import FeedPage, FeedPosition
from dashtam.infrastructure.persistence.models import AccountModel, TransactionModel


async def feed_page(
    container: Container, user_id: UUID, since: FeedPosition | None, limit: int
) -> FeedPage:
    async with container.read_unit_of_work() as uow:
        result = await uow.feed.page(user_id, since, limit=limit)
    assert isinstance(result, Success), result
    return result.value


class Mirror:
    """A client: applies pages in order, as docs/feed.md tells clients to."""

    def __init__(self) -> None:
        self.rows: dict[UUID, Transaction] = {}
        self.position: FeedPosition | None = None
        self.pages = 0

    def apply(self, page: FeedPage) -> None:
        for transaction in (*page.added, *page.modified):
            self.rows[transaction.id] = transaction
        for removed in page.removed:
            self.rows.pop(removed, None)
        self.position = page.next
        self.pages += 1

    async def catch_up(self, container: Container, user_id: UUID, limit: int = 100) -> None:
        while True:
            page = await feed_page(container, user_id, self.position, limit)
            self.apply(page)
            if not page.has_more:
                return


async def truth(container: Container, user_id: UUID) -> dict[UUID, Transaction]:
    """The user's transactions as the database holds them now."""
    async with container.database.get_session() as session:
        rows = await session.scalars(
            select(TransactionModel)
            .join(AccountModel, AccountModel.id == TransactionModel.account_id)
            .where(AccountModel.user_id == user_id)
        )
        return {row.id: row.to_entity() for row in rows.all()}


def comparable(rows: dict[UUID, Transaction]) -> dict[UUID, tuple[object, ...]]:
    """Every field a client sees (``created_at`` is not one of them)."""
    return {
        key: (
            t.account_id,
            t.provider_transaction_id,
            t.amount,
            t.currency,
            t.posted_on,
            t.description,
            t.payee,
            t.memo,
            t.status,
            t.check_number,
            t.reference,
            t.statement_as_of,
            t.transfer_id,
        )
        for key, t in rows.items()
    }
