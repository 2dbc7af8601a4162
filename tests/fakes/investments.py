"""In-memory security, holding and investment transaction repositories (the SQL adapters' twins).

They share one ``InvestmentTables`` (and through it the finance tables' transaction): writes
are staged, published by ``apply_staged()``, and a refused write poisons the transaction.
Rows embed their security as it is stored now, as the SQL adapters' joins do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.investments import (
    ParsedInvestmentBalance,
    ParsedPosition,
    ParsedSecurity,
)
from dashtam.domain.investments.entities import (
    Holding,
    InvestmentBalance,
    Security,
    SecurityId,
    ValuePoint,
)
from tests.fakes.finance_tables import aborted, integrity_error, utc
from tests.fakes.investment_tables import InvestmentTables, amount, quantity

ZERO = Decimal("0.0000")


class _InvestmentRepository:
    def __init__(self, *, tables: InvestmentTables) -> None:
        self.tables = tables


class FakeSecurityRepository(_InvestmentRepository):
    async def upsert(
        self, securities: Sequence[ParsedSecurity], *, as_of: datetime | None
    ) -> Result[Mapping[SecurityId, UUID], Error]:
        if not securities:
            return Success({})
        if (refused := self.tables.refuse("securities.upsert")) is not None:
            return Failure(refused)
        incoming = {item.security_id: item for item in securities}
        stored = {s.identifier: s for s in self.tables.securities.all() if s.identifier in incoming}
        ids: dict[SecurityId, UUID] = {}
        for key, item in incoming.items():
            current = stored.get(key)
            if current is None:
                current = Security(
                    unique_id=key.unique_id,
                    unique_id_type=key.unique_id_type,
                    **_described(item, None, None),
                    info_as_of=utc(as_of),
                )
                self.tables.securities.put(current)
            elif as_of is not None and _renames(current, item, as_of):
                renamed = replace(
                    current,
                    **_described(item, current.ticker, current.currency),
                    info_as_of=as_of.astimezone(UTC),
                    updated_at=utcnow(),
                )
                self.tables.securities.put(renamed)
            ids[key] = current.id
        return Success(ids)

    async def get(self, security_id: UUID) -> Result[Security | None, Error]:
        if (refused := self.tables.refuse("securities.get")) is not None:
            return Failure(refused)
        return Success(self.tables.securities.get(security_id))


def _described(item: ParsedSecurity, ticker: str | None, currency: str | None) -> dict[str, object]:
    return {
        "name": item.name[:255],
        "ticker": (item.ticker[:32] if item.ticker else None) or ticker,
        "kind": item.kind,
        "currency": item.currency or currency,
    }


def _renames(current: Security, item: ParsedSecurity, as_of: datetime) -> bool:
    if current.info_as_of is not None and current.info_as_of > as_of:
        return False  # a newer file described it
    described = _described(item, current.ticker, current.currency)
    stored = {name: getattr(current, name) for name in described}
    return stored != described or current.info_as_of != as_of


class FakeHoldingRepository(_InvestmentRepository):
    async def add_snapshot(
        self,
        account_id: UUID,
        currency: str,
        as_of: datetime,
        positions: Sequence[tuple[UUID, ParsedPosition]],
    ) -> Result[int, Error]:
        if not positions:
            return Success(0)
        if (refused := self.tables.refuse("holdings.add_snapshot")) is not None:
            return Failure(refused)
        merged = _merged(account_id, currency, as_of.astimezone(UTC), positions, self.tables)
        if isinstance(merged, Failure):
            return self.tables.poison(merged.error)
        taken = {_position_key(h) for h in self.tables.live_holdings(account_id)}
        added = [h for h in merged if _position_key(h) not in taken]
        for holding in added:
            self.tables.holdings.put(holding)
        return Success(len(added))

    async def at(
        self, account_id: UUID, as_of: datetime | None
    ) -> Result[Sequence[Holding], Error]:
        if (refused := self.tables.refuse("holdings.at")) is not None:
            return Failure(refused)
        rows = self.tables.live_holdings(account_id)
        times = [h.as_of for h in rows if as_of is None or h.as_of <= as_of]
        latest = [h for h in rows if times and h.as_of == max(times)]
        return Success(self._embedded(latest))

    async def latest_for_user(self, user_id: UUID) -> Result[Sequence[Holding], Error]:
        if (refused := self.tables.refuse("holdings.latest_for_user")) is not None:
            return Failure(refused)
        owned = [a.id for a in self.tables.finance.accounts.rows() if a.user_id == user_id]
        latest: list[Holding] = []
        for account_id in owned:
            rows = self.tables.live_holdings(account_id)
            if rows:
                newest = max(h.as_of for h in rows)
                latest += [h for h in rows if h.as_of == newest]
        return Success(self._embedded(latest))

    async def add_balance(
        self, account_id: UUID, as_of: datetime, balance: ParsedInvestmentBalance
    ) -> Result[bool, Error]:
        if (refused := self.tables.refuse("holdings.add_balance")) is not None:
            return Failure(refused)
        sums = (balance.available_cash, balance.margin_balance)
        sums += (balance.short_balance, balance.buying_power)
        stored = [None if value is None else amount(value) for value in sums]
        if any(s is None and v is not None for s, v in zip(stored, sums, strict=True)):
            return self.tables.poison(aborted())
        if not self.tables.has_account(account_id):
            return self.tables.poison(integrity_error())
        moment = as_of.astimezone(UTC)
        if any(b.as_of == moment for b in self.tables.live_balances(account_id)):
            return Success(False)  # ON CONFLICT (account_id, as_of) DO NOTHING
        cash, margin, short, power = stored
        row = InvestmentBalance(
            account_id=account_id,
            as_of=moment,
            available_cash=cash,
            margin_balance=margin,
            short_balance=short,
            buying_power=power,
            details={str(k): str(v) for k, v in balance.details.items()},
            created_at=utcnow(),
        )
        self.tables.balances.put(row)
        return Success(True)

    async def latest_balance(self, account_id: UUID) -> Result[InvestmentBalance | None, Error]:
        if (refused := self.tables.refuse("holdings.latest_balance")) is not None:
            return Failure(refused)
        rows = self.tables.live_balances(account_id)
        return Success(max(rows, key=lambda b: b.as_of) if rows else None)

    async def value_history(self, account_id: UUID) -> Result[Sequence[ValuePoint], Error]:
        if (refused := self.tables.refuse("holdings.value_history")) is not None:
            return Failure(refused)
        positions: dict[datetime, Decimal] = {}
        for holding in self.tables.live_holdings(account_id):
            positions[holding.as_of] = positions.get(holding.as_of, ZERO) + holding.market_value
        cash = {b.as_of: b.available_cash for b in self.tables.live_balances(account_id)}
        return Success(
            [
                ValuePoint(
                    as_of=moment,
                    cash=cash.get(moment) or ZERO,
                    positions=positions.get(moment, ZERO),
                )
                for moment in sorted(positions.keys() | cash.keys())
            ]
        )

    def _embedded(self, rows: list[Holding]) -> list[Holding]:
        rows.sort(key=lambda h: (h.account_id, h.id))
        return [replace(h, security=self.tables.security(h.security.id)) for h in rows]


def _position_key(holding: Holding) -> tuple[object, ...]:
    return (holding.security.id, holding.as_of, holding.held_in, holding.position_type)


def _merged(
    account_id: UUID,
    currency: str,
    as_of: datetime,
    positions: Sequence[tuple[UUID, ParsedPosition]],
    tables: InvestmentTables,
) -> list[Holding] | Failure[Error]:
    """One holding per (security, held in, long/short): lines of one position are summed."""
    merged: dict[tuple[object, ...], Holding] = {}
    for security_id, p in positions:
        units, price, value = quantity(p.units), quantity(p.unit_price), amount(p.market_value)
        cost = None if p.cost_basis is None else amount(p.cost_basis)
        if (
            units is None
            or price is None
            or value is None
            or (cost is None) != (p.cost_basis is None)
        ):
            return Failure(aborted())
        if not tables.has_account(account_id) or tables.securities.get(security_id) is None:
            return Failure(integrity_error())
        key = (security_id, p.held_in, p.position_type)
        if (first := merged.get(key)) is not None:
            # A cost basis is only meaningful for the whole position: one unknown lot, unknown.
            merged[key] = replace(
                first,
                units=first.units + units,
                market_value=first.market_value + value,
                cost_basis=(
                    first.cost_basis + cost
                    if first.cost_basis is not None and cost is not None
                    else None
                ),
            )
            continue
        merged[key] = Holding(
            account_id=account_id,
            security=tables.security(security_id),
            as_of=as_of,
            units=units,
            unit_price=price,
            market_value=value,
            currency=currency,
            price_as_of=utc(p.price_as_of),
            position_type=p.position_type,
            held_in=p.held_in,
            cost_basis=cost,
            created_at=utcnow(),
        )
    return list(merged.values())
