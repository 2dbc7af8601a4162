"""The statement of ``TransactionRepository.search``: built once per shape of filters.

Every list request runs a search, and building the SELECT (joins, conditions, ordering) cost
more CPU than PostgreSQL spent running it. The statement depends only on *which* filters are
set (and the dialect, for the text filter), never on their values, which travel as bound
parameters: so one statement per shape is built on first use and kept. The shapes are a small
fixed set (each filter set or not, three transfer filters, two dialects), so the cache is
bounded. Columns are the tables' own (Core), not the ORM's: the rows skip the ORM's loading.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, or_, select, tuple_

from dashtam.domain.transactions.repository import (
    TransactionCursor,
    TransactionQuery,
    TransferFilter,
)
from dashtam.infrastructure.persistence.models.finance import AccountModel, TransactionModel
from dashtam.infrastructure.persistence.repositories.transaction_links import (
    ENTITY_COLUMNS,
    transfer_condition,
)
from dashtam.infrastructure.persistence.sql import LIKE_ESCAPE, contains_pattern

_T = cast(Table, TransactionModel.__table__)
_A = cast(Table, AccountModel.__table__)
# Every shape, for every dialect, fits: (2^5 filters x text none/sqlite/other) x 3 x 2 cursor.
_SHAPES = 2**5 * 3 * 3 * 2


class _Shape(NamedTuple):
    account: bool
    posted_from: bool
    posted_to: bool
    min_amount: bool
    max_amount: bool
    text: str | None  # None: no text filter; else how the dialect matches it ("sqlite"/"ilike")
    transfers: TransferFilter
    after: bool


def search_statement(
    query: TransactionQuery, *, after: TransactionCursor | None, limit: int, dialect: str
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement for ``query`` and its parameters (newest first, ``limit`` rows)."""
    shape = _Shape(
        account=query.account_id is not None,
        posted_from=query.posted_from is not None,
        posted_to=query.posted_to is not None,
        min_amount=query.min_amount is not None,
        max_amount=query.max_amount is not None,
        text=("sqlite" if dialect == "sqlite" else "ilike") if query.text else None,
        transfers=query.transfers,
        after=after is not None,
    )
    params: dict[str, Any] = {"user_id": query.user_id, "limit": limit}
    if shape.account:
        params["account_id"] = query.account_id
    if shape.posted_from:
        params["posted_from"] = query.posted_from
    if shape.posted_to:
        params["posted_to"] = query.posted_to
    if shape.min_amount:
        params["min_amount"] = query.min_amount
    if shape.max_amount:
        params["max_amount"] = query.max_amount
    if query.text:
        params["needle"] = contains_pattern(query.text)
    if after is not None:
        params["after_posted_on"], params["after_id"] = after.posted_on, after.id
    return _statement(shape), params


@lru_cache(maxsize=_SHAPES)
def _statement(shape: _Shape) -> Select[Any]:
    c = _T.c
    statement = (
        select(*ENTITY_COLUMNS)
        .join_from(_T, _A, _A.c.id == c.account_id)
        .where(_A.c.user_id == bindparam("user_id"))
        .order_by(c.posted_on.desc(), c.id.desc())
        .limit(bindparam("limit"))
    )
    if shape.account:
        statement = statement.where(c.account_id == bindparam("account_id"))
    if shape.posted_from:
        statement = statement.where(c.posted_on >= bindparam("posted_from"))
    if shape.posted_to:
        statement = statement.where(c.posted_on <= bindparam("posted_to"))
    if shape.min_amount:
        statement = statement.where(c.amount >= bindparam("min_amount"))
    if shape.max_amount:
        statement = statement.where(c.amount <= bindparam("max_amount"))
    if shape.text is not None:
        needle = bindparam("needle", type_=c.description.type)
        sqlite = shape.text == "sqlite"
        statement = statement.where(
            or_(*(_icontains(column, needle, sqlite=sqlite) for column in _TEXT_COLUMNS))
        )
    if (transfers := transfer_condition(shape.transfers)) is not None:
        statement = statement.where(transfers)
    if shape.after:
        statement = statement.where(
            tuple_(c.posted_on, c.id)
            < tuple_(
                bindparam("after_posted_on", type_=c.posted_on.type),
                bindparam("after_id", type_=c.id.type),
            )
        )
    return statement


_TEXT_COLUMNS = (_T.c.description, _T.c.payee, _T.c.memo)


def _icontains(column: Any, needle: Any, *, sqlite: bool) -> ColumnElement[bool]:
    """ILIKE; on SQLite through ``dashtam_fold`` (database.py), its lower() being ASCII-only."""
    if sqlite:
        result: ColumnElement[bool] = func.dashtam_fold(column).like(
            func.dashtam_fold(needle), escape=LIKE_ESCAPE
        )
        return result
    return column.ilike(needle, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
