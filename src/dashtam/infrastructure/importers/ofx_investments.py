"""One investment statement (INVSTMTRS) as its elements are read.

Its trades and cash lines (``INVBANKTRAN``) batch up like a bank statement's transactions;
positions and balances are kept until the statement closes (a few thousand at most).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import (
    InvestmentData,
    ParsedInvestmentBalance,
    ParsedInvestmentTransaction,
    ParsedPosition,
)
from dashtam.domain.imports.statement import ParsedAccount, ParsedTransaction
from dashtam.domain.investments.entities import HeldIn, PositionType, SecurityId
from dashtam.domain.money import MAX_ABS_AMOUNT
from dashtam.infrastructure.importers.ofx_aggregate import Aggregate
from dashtam.infrastructure.importers.ofx_fields import Identities, free_text, timestamp
from dashtam.infrastructure.importers.ofx_statement import CashTransactions, account_identity
from dashtam.infrastructure.importers.ofx_trades import investment_transaction, position
from dashtam.infrastructure.importers.safety import reject

_PLAN_BALANCES = (
    *("CASHBAL", "PRETAX", "AFTERTAX", "MATCH", "PROFITSHARING", "ROLLOVER"),
    *("OTHERVEST", "OTHERNONVEST", "TOTAL"),
)
_PLAN_FACTS = ("EMPLOYERNAME", "PLANID", "PLANJOINDATE")
_MAX_DETAILS = 200  # BALLIST entries kept, and the length of a name or value


class InvestmentStatement:
    __slots__ = (
        "_account", "_cash", "_counts", "_details", "_fields", "_ids", "_is_401k",
        "_positions", "_trades", "where",
    )  # fmt: skip

    def __init__(self, number: int, fields: dict[str, str], *, is_401k: bool) -> None:
        self.where = f"INVSTMTRS #{number}"
        # The statement's own leaves, filled in by the reader as the file goes by.
        self._fields = fields
        self._is_401k = is_401k
        self._cash = CashTransactions(self.where)
        self._trades: list[ParsedInvestmentTransaction] = []
        # Apart from the cash lines': the two are stored apart, each unique by its own ids.
        self._ids = Identities()
        self._counts: dict[str, int] = {}
        self._positions: dict[tuple[SecurityId, HeldIn, PositionType], ParsedPosition] = {}
        self._details: dict[str, str] = {}
        self._account: ParsedAccount | None = None

    def _where(self, tag: str) -> str:
        count = self._counts[tag] = self._counts.get(tag, 0) + 1
        return f"{self.where} {tag} #{count}"

    def add(self, fields: dict[str, str]) -> None:
        """A cash line: the ``STMTTRN`` of an ``INVBANKTRAN``."""
        self._cash.add(fields)

    def add_trade(self, tag: str, fields: dict[str, str]) -> None:
        kept = self._ids.keep(*investment_transaction(tag, fields, self._where(tag)))
        if kept is not None:
            self._trades.append(kept)

    def add_position(self, tag: str, fields: dict[str, str]) -> None:
        read = position(fields, self._where(tag))
        # A holding is one per security, sub-account and long/short: plans list a fund once
        # per source of money, and those lines add up. Cash and margin lots stay apart.
        key = (read.security_id, read.held_in, read.position_type)
        held = self._positions.get(key)
        self._positions[key] = read if held is None else _merged(held, read)

    def add_balance(self, fields: dict[str, str], *, plan: bool) -> None:
        """A ``BAL`` of the ``BALLIST`` of ``INVBAL`` or (``plan``) of ``INV401KBAL``."""
        name = free_text(fields.get("NAME"), _MAX_DETAILS) or free_text(fields.get("DESC"), 80)
        if name is None or len(self._details) >= _MAX_DETAILS:
            return
        key = base = f"401k.{name}" if plan else name
        repeat = 1
        while key in self._details:  # two entries of one name: both kept
            repeat += 1
            key = f"{base} #{repeat}"
        self._details[key] = free_text(fields.get("VALUE"), _MAX_DETAILS) or ""

    def pending(self) -> int:
        return len(self._cash.batch) + len(self._trades)

    def take(self) -> list[ParsedTransaction]:
        return self._cash.take()

    def account(self) -> ParsedAccount | None:
        """The account, or None while its currency, number or as-of date is still ahead."""
        if self._account is None and {"DTASOF", "CURDEF", "INVACCTFROM/ACCTID"} <= set(
            self._fields
        ):
            self._account = self._describe()
        return self._account

    def closing(self, server_time: str | None) -> ParsedAccount:
        """The account with what follows the trades: cash, the value of the positions."""
        account = self._account or self._describe(server_time)
        cash = self._read().money("INVBAL/AVAILCASH")
        value = self._value(cash)
        return replace(
            account,
            balance=value,
            balance_as_of=self._as_of(server_time) if value is not None else None,
            available_balance=cash,
            available_balance_as_of=self._as_of(server_time) if cash is not None else None,
            statement_end=self._end(server_time),
        )

    def investment(self, *, closing: bool, server_time: str | None) -> InvestmentData:
        """This part's trades; with the positions and balances on the statement's last part."""
        trades, self._trades = self._trades, []
        return InvestmentData(
            as_of=self._as_of(server_time),
            transactions=trades,
            positions=list(self._positions.values()) if closing else (),
            balance=self._balance() if closing else None,
            is_401k=self._is_401k,
        )

    def _read(self) -> Aggregate:
        return Aggregate(self._fields, self.where)

    def _describe(self, server_time: str | None = None) -> ParsedAccount:
        self._as_of(server_time)  # refused before anything else if no date says when
        currency, account_id = account_identity(self._fields, self.where, "INVACCTFROM")
        return ParsedAccount(
            provider_account_id=account_id,
            account_type=AccountType.BROKERAGE,
            currency=currency,
        )

    def _as_of(self, server_time: str | None) -> datetime:
        for key in ("DTASOF", "INVTRANLIST/DTEND"):
            moment = self._read().moment(key)
            if moment is not None:
                return moment
        if server_time:
            return timestamp(server_time, "SONRS DTSERVER")
        reject("DTASOF (the statement's date) is missing", location=self.where)
        raise AssertionError("unreachable")

    def _end(self, server_time: str | None) -> datetime:
        end = self._read().moment("INVTRANLIST/DTEND")
        return end if end is not None else self._as_of(server_time)

    def _value(self, cash: Decimal | None) -> Decimal | None:
        """What the account is worth: its cash and the market value of its positions."""
        if cash is None:  # a 401(k) plan states its cash here instead
            cash = self._read().money("INV401KBAL/CASHBAL")
        if cash is None and not self._positions:
            return None
        value = (cash or Decimal(0)) + sum(
            (p.market_value for p in self._positions.values()), Decimal(0)
        )
        if abs(value) >= MAX_ABS_AMOUNT:
            reject("the account's value is too large", location=self.where, code="invalid_amount")
        return value

    def _balance(self) -> ParsedInvestmentBalance | None:
        read, details = self._read(), dict(self._details)
        for name in _PLAN_BALANCES:
            plan_value = read.money(f"INV401KBAL/{name}")
            if plan_value is not None:
                details[f"401k.{name.lower()}"] = str(plan_value)
        for name in _PLAN_FACTS:
            fact = read.free(f"INV401K/{name}", _MAX_DETAILS)
            if fact is not None:
                details[f"401k.{name.lower()}"] = fact
        balance = ParsedInvestmentBalance(
            available_cash=read.money("INVBAL/AVAILCASH"),
            margin_balance=read.money("INVBAL/MARGINBALANCE"),
            short_balance=read.money("INVBAL/SHORTBALANCE"),
            buying_power=read.money("INVBAL/BUYPOWER"),
            details=details,
        )
        return None if balance == ParsedInvestmentBalance() else balance


def _merged(held: ParsedPosition, more: ParsedPosition) -> ParsedPosition:
    units = held.units + more.units
    return replace(
        held,
        units=units,
        market_value=held.market_value + more.market_value,
        cost_basis=(
            None
            if held.cost_basis is None or more.cost_basis is None
            else held.cost_basis + more.cost_basis
        ),
        memo="; ".join(m for m in (held.memo, more.memo) if m)[:500] or None,
    )
