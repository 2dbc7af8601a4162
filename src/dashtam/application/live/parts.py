"""A live source's answers, as the statement parts that file imports write.

A sync fetches one or more windows; they are merged per account (a transaction listed in two
windows is one transaction, the later answer wins) and become one part per account, so the
sync goes through the same write path as a file: the same upsert, pending-to-posted and
transfer rules, in one transaction.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import InvestmentData, ParsedPosition, ParsedSecurity
from dashtam.domain.imports.statement import ParsedAccount, ParsedTransaction, StatementPart
from dashtam.domain.investments.entities import SecurityId
from dashtam.domain.providers.live import (
    SourceAccount,
    SourceHolding,
    SourceMessage,
    SourceSnapshot,
    SourceTransaction,
)
from dashtam.domain.transactions.entities import TransactionStatus

# Column widths of the rows these become (longer source ids are digested, texts cut).
_ACCOUNT_ID_WIDTH = 64
_TRANSACTION_ID_WIDTH = 255
_DESCRIPTION_WIDTH = 500
_PAYEE_WIDTH = 255
_MEMO_WIDTH = 500
CUSTOM_CURRENCY = "accounts in a custom currency"
SOURCE_SECURITY_ID_TYPE = "SIMPLEFIN"


@dataclass(slots=True)
class MergedSnapshot:
    """Every window's answer, merged: the latest state of each account and transaction."""

    accounts: dict[str, SourceAccount] = field(default_factory=dict)
    transactions: dict[str, dict[str, SourceTransaction]] = field(default_factory=dict)
    messages: list[SourceMessage] = field(default_factory=list)

    def add(self, snapshot: SourceSnapshot) -> None:
        for account in snapshot.accounts:
            self.accounts[account.id] = account
            listed = self.transactions.setdefault(account.id, {})
            listed.update((item.id, item) for item in account.transactions)
        for message in snapshot.messages:
            if message not in self.messages:
                self.messages.append(message)


@dataclass(frozen=True, slots=True)
class SyncParts:
    parts: list[StatementPart]
    skipped: Counter[str]


def sync_parts(merged: MergedSnapshot, *, as_of: datetime) -> SyncParts:
    """One part per account of the answer; accounts in a custom currency are skipped."""
    parts: list[StatementPart] = []
    skipped: Counter[str] = Counter()
    for key, account in merged.accounts.items():
        if account.has_custom_currency or len(account.currency) != 3:
            skipped[CUSTOM_CURRENCY] += 1
            continue
        transactions = [
            _transaction(item, as_of) for item in merged.transactions.get(key, {}).values()
        ]
        parts.append(_part(account, transactions, as_of, len(parts)))
    total = len(parts)
    return SyncParts([_numbered(part, index, total) for index, part in enumerate(parts)], skipped)


def _part(
    account: SourceAccount,
    transactions: Sequence[ParsedTransaction],
    as_of: datetime,
    index: int,
) -> StatementPart:
    positions, securities = _holdings(account)
    parsed = ParsedAccount(
        provider_account_id=fitted_id(account.id, _ACCOUNT_ID_WIDTH),
        account_type=AccountType.BROKERAGE if account.holdings else AccountType.OTHER,
        currency=account.currency.upper(),
        name=account.name[:200] or None,
        balance=account.balance,
        balance_as_of=account.balance_date,
        available_balance=account.available_balance,
        available_balance_as_of=(
            account.balance_date if account.available_balance is not None else None
        ),
        statement_end=as_of,
    )
    investment = (
        InvestmentData(as_of=account.balance_date, positions=positions) if positions else None
    )
    return StatementPart(
        account=parsed,
        transactions=transactions,
        done=index,
        total=index,
        investment=investment,
        securities=securities,
    )


def _numbered(part: StatementPart, index: int, total: int) -> StatementPart:
    return StatementPart(
        account=part.account,
        transactions=part.transactions,
        done=index + 1,
        total=total,
        investment=part.investment,
        securities=part.securities,
    )


def _transaction(item: SourceTransaction, as_of: datetime) -> ParsedTransaction:
    # A pending transaction may come with ``posted: 0``: it is dated when it happened.
    when = item.posted or item.transacted_at or as_of
    return ParsedTransaction(
        provider_transaction_id=fitted_id(item.id, _TRANSACTION_ID_WIDTH),
        amount=item.amount,
        posted_on=when.astimezone(UTC).date(),
        description=(item.description or item.payee or "")[:_DESCRIPTION_WIDTH],
        payee=item.payee[:_PAYEE_WIDTH] if item.payee else None,
        memo=item.memo[:_MEMO_WIDTH] if item.memo else None,
        status=TransactionStatus.PENDING if item.pending else TransactionStatus.POSTED,
    )


def _holdings(account: SourceAccount) -> tuple[list[ParsedPosition], list[ParsedSecurity]]:
    positions: list[ParsedPosition] = []
    securities: dict[SecurityId, ParsedSecurity] = {}
    for holding in account.holdings:
        if holding.shares is None or holding.market_value is None:
            continue
        security = _security(holding)
        securities.setdefault(security.security_id, security)
        positions.append(
            ParsedPosition(
                security_id=security.security_id,
                units=holding.shares,
                unit_price=_unit_price(holding.shares, holding.market_value),
                market_value=holding.market_value,
                price_as_of=account.balance_date,
                cost_basis=holding.cost_basis,
            )
        )
    return positions, list(securities.values())


def _security(holding: SourceHolding) -> ParsedSecurity:
    symbol = (holding.symbol or "").strip().upper()
    identifier = (
        SecurityId(symbol[:32], "TICKER")
        if symbol
        else SecurityId(fitted_id(holding.id, 255), SOURCE_SECURITY_ID_TYPE)
    )
    return ParsedSecurity(
        security_id=identifier,
        name=(holding.description or symbol or holding.id)[:200],
        ticker=symbol[:32] or None,
        currency=holding.currency.upper() if holding.currency else None,
    )


def _unit_price(shares: Decimal, market_value: Decimal) -> Decimal:
    if shares == 0:
        return Decimal(0)
    return (market_value / shares).quantize(Decimal("0.0000000001"))


def fitted_id(source_id: str, width: int) -> str:
    """The source's id where it fits; a stable digest of it where it does not."""
    if len(source_id) <= width:
        return source_id
    return "sha256:" + hashlib.sha256(source_id.encode()).hexdigest()[: width - 7]


def account_keys(parts: Iterable[StatementPart]) -> set[str]:
    return {part.account.provider_account_id for part in parts}
