"""In-memory investment transactions: the twin of ``SqlInvestmentTransactionRepository``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, datetime
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.investments import ParsedInvestmentTransaction
from dashtam.domain.investments.entities import InvestmentTransaction
from dashtam.domain.investments.repository import (
    InvestmentTransactionCursor,
    InvestmentTransactionQuery,
)
from dashtam.domain.transactions.repository import UpsertCounts
from tests.fakes.finance_tables import aborted, integrity_error, utc
from tests.fakes.investment_tables import InvestmentTables, amount, quantity

Resolved = tuple[UUID | None, ParsedInvestmentTransaction]


class FakeInvestmentTransactionRepository:
    def __init__(self, *, tables: InvestmentTables) -> None:
        self.tables = tables

    async def upsert_batch(
        self,
        account_id: UUID,
        currency: str,
        batch: Sequence[Resolved],
        *,
        statement_as_of: datetime | None = None,
    ) -> Result[UpsertCounts, Error]:
        if not batch:
            return Success(UpsertCounts())  # the SQL adapter returns before touching the session
        if (refused := self.tables.refuse("investment_transactions.upsert_batch")) is not None:
            return Failure(refused)
        # A file may repeat an id: the last occurrence describes it best.
        incoming = {item.provider_transaction_id: (sid, item) for sid, item in batch}
        if any(_refused(item) for _, item in incoming.values()):
            return self.tables.poison(aborted())
        if not self.tables.has_account(account_id) or any(
            sid is not None and self.tables.securities.get(sid) is None
            for sid, _ in incoming.values()
        ):
            return self.tables.poison(integrity_error())
        existing = {
            t.provider_transaction_id: t
            for t in self.tables.live_transactions(account_id)
            if t.provider_transaction_id in incoming
        }
        as_of = utc(statement_as_of)
        new = updated = outdated = 0
        for key, resolved in incoming.items():
            row = existing.get(key)
            if row is not None and _newer(row.statement_as_of, as_of):
                outdated += 1  # a newer statement's version stays
                continue
            if row is not None and _unchanged(row, *resolved):
                continue
            security_id, item = resolved
            written = replace(
                row or _new_row(account_id, currency, item),
                **_columns(item),
                security=None if security_id is None else self.tables.security(security_id),
                statement_as_of=as_of or (row.statement_as_of if row else None),
            )
            self.tables.transactions.put(written)
            new, updated = (new + 1, updated) if row is None else (new, updated + 1)
        unchanged = len(incoming) - new - updated - outdated
        return Success(UpsertCounts(new, updated, unchanged, outdated))

    async def search(
        self,
        query: InvestmentTransactionQuery,
        *,
        after: InvestmentTransactionCursor | None,
        limit: int,
    ) -> Result[Sequence[InvestmentTransaction], Error]:
        if (refused := self.tables.refuse("investment_transactions.search")) is not None:
            return Failure(refused)
        matches = [
            t
            for t in self.tables.live_transactions(query.account_id)
            if (query.security_id is None or (t.security and t.security.id == query.security_id))
            and (query.kind is None or t.kind == query.kind)
            and (query.trade_from is None or t.trade_date >= query.trade_from)
            and (query.trade_to is None or t.trade_date <= query.trade_to)
            and (after is None or (t.trade_date, t.id) < (after.trade_date, after.id))
        ]
        matches.sort(key=lambda t: (t.trade_date, t.id), reverse=True)
        return Success(
            [
                replace(t, security=self.tables.security(t.security.id) if t.security else None)
                for t in matches[: max(limit, 0)]
            ]
        )

    async def of_securities(
        self, account_id: UUID, security_ids: Collection[UUID], *, through: date
    ) -> Result[Sequence[InvestmentTransaction], Error]:
        if not security_ids:
            return Success([])  # the SQL adapter returns before touching the session
        if (refused := self.tables.refuse("investment_transactions.of_securities")) is not None:
            return Failure(refused)
        wanted = set(security_ids)
        matches = [
            replace(t, security=self.tables.security(t.security.id))
            for t in self.tables.live_transactions(account_id)
            if t.security is not None and t.security.id in wanted and t.trade_date <= through
        ]
        return Success(sorted(matches, key=lambda t: (t.trade_date, t.id)))


def _refused(item: ParsedInvestmentTransaction) -> bool:
    """What the column types refuse: an eleventh place in a quantity, a fifth in money."""
    quantities = (item.units, item.unit_price)
    money = (item.commission, item.fees, item.taxes, item.load, item.total)
    return any(v is not None and quantity(v) is None for v in quantities) or any(
        v is not None and amount(v) is None for v in money
    )


def _columns(item: ParsedInvestmentTransaction) -> dict[str, object]:
    """The compared columns (but the security) as a row would hold them."""
    return {
        "kind": item.kind,
        "trade_date": item.trade_date,
        "settle_date": item.settle_date,
        "units": None if item.units is None else quantity(item.units),
        "unit_price": None if item.unit_price is None else quantity(item.unit_price),
        "commission": None if item.commission is None else amount(item.commission),
        "fees": None if item.fees is None else amount(item.fees),
        "taxes": None if item.taxes is None else amount(item.taxes),
        "load": None if item.load is None else amount(item.load),
        "total": amount(item.total),
        "income_type": item.income_type,
        "held_in": item.held_in,
        "cash_held_in": item.cash_held_in,
        "source_401k": item.source_401k[:32] if item.source_401k else None,
        "memo": item.memo[:500] if item.memo else None,
    }


def _unchanged(
    row: InvestmentTransaction, security_id: UUID | None, item: ParsedInvestmentTransaction
) -> bool:
    stored = {name: getattr(row, name) for name in _columns(item)}
    same_security = (row.security.id if row.security else None) == security_id
    return same_security and stored == _columns(item)


def _newer(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and stored > incoming


def _new_row(
    account_id: UUID, currency: str, item: ParsedInvestmentTransaction
) -> InvestmentTransaction:
    """A stored row keeps its id, currency and created_at when later statements update it."""
    return InvestmentTransaction(
        account_id=account_id,
        provider_transaction_id=item.provider_transaction_id,
        kind=item.kind,
        trade_date=item.trade_date,
        total=item.total,
        currency=currency,
        created_at=utcnow(),
    )
