"""SQLAlchemy adapter of the ``TransactionFeed`` port: reads the trigger-filled change log.

Why a page is exact (docs/feed.md): a snapshot holds a prefix of each user's ``seq`` numbers
(migration 0011), so ``seq > cursor`` never skips a change that becomes visible later. A
page names the transactions its changes touched and sends each one's state as read after
those changes (or its removal when it is gone), never the change itself: whatever order
changes of different transactions were numbered in, the last page that touches a
transaction carries its latest state.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Select, exists, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import ScalarSelect

from dashtam.core.errors import Error
from dashtam.core.result import Result, Success
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.feed import FeedPage, FeedPosition, WalkKey
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.feed import TransactionChangeModel
from dashtam.infrastructure.persistence.models.finance import AccountModel, TransactionModel

_C = TransactionChangeModel
_T = TransactionModel


class SqlTransactionFeed:
    """Read-only: the first walk over current transactions, then the change log."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def page(
        self, user_id: UUID, since: FeedPosition | None, *, limit: int
    ) -> Result[FeedPage, Error]:
        if since is None:
            # Read before the walk: whatever changes after this number is sent again later.
            since = FeedPosition(seq=await self._last_seq(user_id), walk=None)
            return Success(await self._walk(user_id, since, None, limit))
        if since.walk is not None:
            return Success(await self._walk(user_id, since, since.walk, limit))
        return Success(await self._follow(user_id, since.seq, limit))

    async def _last_seq(self, user_id: UUID) -> int:
        last = await self._session.scalar(
            select(func.max(_C.seq)).where(_C.user_id == user_id, _C.seq.is_not(None))
        )
        return int(last or 0)

    async def _walk(
        self, user_id: UUID, since: FeedPosition, after: WalkKey | None, limit: int
    ) -> FeedPage:
        dialect = self._session.get_bind().dialect.name
        statement = walk_statement(user_id, after, limit + 1, dialect=dialect)
        rows = (await self._session.scalars(statement)).all()
        items = [row.to_entity() for row in rows[:limit]]
        if len(rows) > limit:
            last = items[-1]
            walk = WalkKey(last.account_id, last.posted_on, last.id)
            return _page(added=items, next_=FeedPosition(since.seq, walk), more=True)
        more = await self._session.scalar(
            select(exists().where(_C.user_id == user_id, _C.seq > since.seq))
        )
        return _page(added=items, next_=FeedPosition(since.seq), more=bool(more))

    async def _follow(self, user_id: UUID, after_seq: int, limit: int) -> FeedPage:
        changes = (
            await self._session.execute(
                select(_C.seq, _C.transaction_id, _C.op)
                .where(_C.user_id == user_id, _C.seq > after_seq)
                .order_by(_C.seq)
                .limit(limit + 1)
            )
        ).all()
        page = changes[:limit]
        if not page:
            return _page(next_=FeedPosition(after_seq), more=False)
        touched = list(dict.fromkeys(change.transaction_id for change in page))
        inserted = {change.transaction_id for change in page if change.op == "insert"}
        # Read after the changes: each transaction's state now, or nothing if it is gone.
        current = await self._current(user_id, touched)
        added: list[Transaction] = []
        modified: list[Transaction] = []
        removed: list[UUID] = []
        for transaction_id in touched:
            found = current.get(transaction_id)
            if found is None:
                removed.append(transaction_id)
            elif transaction_id in inserted:
                added.append(found)
            else:
                modified.append(found)
        return _page(
            added=added,
            modified=modified,
            removed=removed,
            next_=FeedPosition(int(page[-1].seq)),
            more=len(changes) > limit,
        )

    async def _current(self, user_id: UUID, ids: list[UUID]) -> dict[UUID, Transaction]:
        rows = await self._session.scalars(
            select(_T)
            .where(_T.id.in_(ids), _T.account_id.in_(_owned_accounts(user_id)))
            .execution_options(populate_existing=True)
        )
        return {row.id: row.to_entity() for row in rows.all()}


def walk_statement(
    user_id: UUID, after: WalkKey | None, limit: int, *, dialect: str
) -> Select[TransactionModel]:
    """The next ``limit`` of the user's transactions in ``(account_id, posted_on, id)`` order.

    On PostgreSQL, a LATERAL range of ``ix_transactions_account_posted`` per account of the
    user's, from the cursor on: one index range over all accounts read every other user's rows
    that sort between the cursor and the user's own (50,000 rows for a 100-row page seen with
    one other user). SQLite looks each account up in the index, in order, by itself.
    """
    key = tuple_(_T.account_id, _T.posted_on, _T.id)
    past = key > tuple_(after.account_id, after.posted_on, after.id) if after else None
    if dialect != "postgresql":
        statement = select(_T).where(_T.account_id.in_(_owned_accounts(user_id)))
        if past is not None:
            statement = statement.where(past)
        return statement.order_by(_T.account_id, _T.posted_on, _T.id).limit(limit)
    range_of_each = select(_T).where(_T.account_id == AccountModel.id)
    if past is not None:
        range_of_each = range_of_each.where(past)
    rows = aliased(
        _T, range_of_each.order_by(_T.posted_on, _T.id).limit(limit).lateral(), flat=True
    )
    statement = (
        select(rows)
        .select_from(AccountModel)
        .join(rows, true())
        .where(AccountModel.user_id == user_id)
    )
    if after is not None:
        statement = statement.where(AccountModel.id >= after.account_id)
    return statement.order_by(rows.account_id, rows.posted_on, rows.id).limit(limit)


def _owned_accounts(user_id: UUID) -> ScalarSelect[UUID]:
    return select(AccountModel.id).where(AccountModel.user_id == user_id).scalar_subquery()


def _page(
    *,
    next_: FeedPosition,
    more: bool,
    added: Sequence[Transaction] = (),
    modified: Sequence[Transaction] = (),
    removed: Sequence[UUID] = (),
) -> FeedPage:
    return FeedPage(
        added=list(added),
        modified=list(modified),
        removed=list(removed),
        next=next_,
        has_more=more,
    )
