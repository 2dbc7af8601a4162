"""The investment side of an import: securities, trades, positions and cash, per part.

Called by ``ImportStatementHandler`` inside the import's one transaction, after the part's
account is written; nothing here commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account
from dashtam.domain.imports.investments import InvestmentData, ParsedPosition, ParsedSecurity
from dashtam.domain.imports.statement import StatementPart
from dashtam.domain.investments.cost import position_cost
from dashtam.domain.investments.entities import InvestmentTransaction, PositionType, SecurityId
from dashtam.domain.investments.events import HoldingsUpdated
from dashtam.domain.transactions.repository import UpsertCounts

Resolved = tuple[UUID, ParsedPosition]


@dataclass(slots=True)
class _AccountChange:
    as_of: datetime
    positions: int = 0
    positions_added: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)


@dataclass(slots=True)
class InvestmentWrites:
    """What an import wrote on the investment side so far (one per import)."""

    user_id: UUID
    securities: dict[SecurityId, UUID] = field(default_factory=dict)
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    holdings_added: int = 0
    changes: dict[UUID, _AccountChange] = field(default_factory=dict)

    async def write(
        self, uow: UnitOfWork, account: Account, part: StatementPart
    ) -> Result[None, Error]:
        data = part.investment
        if part.securities:
            described = await self._securities(
                uow, part.securities, data.as_of if data is not None else None
            )
            if isinstance(described, Failure):
                return described
        if data is None:
            return Success(None)
        referenced = await self._securities(uow, _undescribed(data, self.securities), None)
        if isinstance(referenced, Failure):
            return referenced
        change = self.changes.setdefault(account.id, _AccountChange(as_of=data.as_of))
        if data.transactions:
            written = await uow.investment_transactions.upsert_batch(
                account.id,
                account.currency,
                [(self._id(t.security_id), t) for t in data.transactions],
                statement_as_of=part.account.statement_end or data.as_of,
            )
            if isinstance(written, Failure):
                return written
            self.counts = self.counts + written.value
            change.counts = change.counts + written.value
        return await self._snapshot(uow, account, data, change)

    def events(self) -> list[HoldingsUpdated]:
        """One per investment account the import touched."""
        return [
            HoldingsUpdated(
                user_id=self.user_id,
                account_id=account_id,
                as_of=change.as_of,
                positions=change.positions,
                positions_added=change.positions_added,
                investment_transactions_new=change.counts.new,
                investment_transactions_updated=change.counts.updated,
            )
            for account_id, change in self.changes.items()
        ]

    async def _snapshot(
        self, uow: UnitOfWork, account: Account, data: InvestmentData, change: _AccountChange
    ) -> Result[None, Error]:
        """Positions and the cash side as of the statement (they come with its last part)."""
        if data.positions:
            costed = await _with_cost(
                uow,
                account.id,
                data.as_of,
                [(self.securities[p.security_id], p) for p in data.positions],
            )
            if isinstance(costed, Failure):
                return costed
            positions = costed.value
            added = await uow.holdings.add_snapshot(
                account.id, account.currency, data.as_of, positions
            )
            if isinstance(added, Failure):
                return added
            self.holdings_added += added.value
            change.positions += len(positions)
            change.positions_added += added.value
        if data.balance is not None:
            stored = await uow.holdings.add_balance(account.id, data.as_of, data.balance)
            if isinstance(stored, Failure):
                return stored
        return Success(None)

    async def _securities(
        self, uow: UnitOfWork, securities: Sequence[ParsedSecurity], as_of: datetime | None
    ) -> Result[None, Error]:
        if not securities:
            return Success(None)
        upserted = await uow.securities.upsert(securities, as_of=as_of)
        if isinstance(upserted, Failure):
            return upserted
        self.securities.update(upserted.value)
        return Success(None)

    def _id(self, security: SecurityId | None) -> UUID | None:
        return None if security is None else self.securities[security]


async def _with_cost(
    uow: UnitOfWork, account_id: UUID, as_of: datetime, positions: list[Resolved]
) -> Result[list[Resolved], Error]:
    """The positions, those the file gives no cost costed from the account's stored trades.

    Runs after the part's trades are written, so this file's own trades count.
    """
    wanted = {
        sid for sid, p in positions if p.cost_basis is None and p.position_type is PositionType.LONG
    }
    # ``as_of`` keeps the file's own offset: its date is the statement's day, as trade dates are.
    found = await uow.investment_transactions.of_securities(
        account_id, wanted, through=as_of.date()
    )
    if isinstance(found, Failure):
        return found
    trades: dict[UUID, list[InvestmentTransaction]] = defaultdict(list)
    for trade in found.value:
        if trade.security is not None:
            trades[trade.security.id].append(trade)
    return Success([(sid, _costed(p, trades.get(sid, []), as_of)) for sid, p in positions])


def _costed(
    position: ParsedPosition, trades: list[InvestmentTransaction], as_of: datetime
) -> ParsedPosition:
    if position.cost_basis is not None or not trades:
        return position
    cost = position_cost(
        units=position.units,
        position_type=position.position_type,
        held_in=position.held_in,
        as_of=as_of.date(),
        trades=trades,
    )
    return position if cost is None else replace(position, cost_basis=cost)


def _undescribed(data: InvestmentData, known: dict[SecurityId, UUID]) -> list[ParsedSecurity]:
    """Securities the part names that no SECLIST described: created under their identifier."""
    named: Iterable[SecurityId | None] = (
        *(t.security_id for t in data.transactions),
        *(p.security_id for p in data.positions),
    )
    missing = {sid for sid in named if sid is not None and sid not in known}
    return [ParsedSecurity(security_id=sid, name=sid.unique_id) for sid in sorted(missing, key=str)]
