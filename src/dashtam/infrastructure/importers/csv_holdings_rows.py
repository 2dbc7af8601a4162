"""One positions row at a time: a position, the account's cash, or a line left out (and why)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from dashtam.core.result import Failure, Success
from dashtam.domain.imports.investments import ParsedPosition, ParsedSecurity
from dashtam.domain.investments.entities import HeldIn, PositionType, SecurityId, SecurityKind
from dashtam.domain.money import parse_currency
from dashtam.infrastructure.importers.csv_holdings_layout import (
    CASH_SYMBOLS,
    CASH_TYPES,
    PENDING_SYMBOLS,
    SUMMARY_WORDS,
    HoldingsLayout,
    held_in,
    security_kind,
)
from dashtam.infrastructure.importers.csv_holdings_values import (
    MONEY_PLACES,
    UNIT_PLACES,
    is_blank,
    read_number,
    security_id,
)
from dashtam.infrastructure.importers.csv_layout import column_key
from dashtam.infrastructure.importers.safety import check_identifier, clean_text, reject

MAX_ACCOUNT_ID = 64
_MONEY = Decimal(1).scaleb(-MONEY_PLACES)
_UNIT = Decimal(1).scaleb(-UNIT_PLACES)


@dataclass(slots=True)
class AccountHoldings:
    """What the file says one account holds."""

    provider_account_id: str
    name: str | None = None
    currency: str | None = None
    positions: dict[tuple[SecurityId, HeldIn, PositionType], ParsedPosition] = field(
        default_factory=dict
    )
    cash: Decimal | None = None
    pending: Decimal | None = None
    last_line: int = 0


class HoldingsRows:
    """Reads a positions export's rows into accounts, their positions and cash.

    Lines that are neither (totals, disclaimers, the download date) are counted in ``skipped``
    and their text kept in ``notes``, where the export's date is looked for.
    """

    def __init__(self, layout: HoldingsLayout, names: Sequence[str], *, account: str) -> None:
        self._layout = layout
        self._columns = {column_key(name): position for position, name in enumerate(names)}
        self._header = [column_key(name) for name in names]
        self._width = len(names)
        self._default_account = account
        self.accounts: dict[str, AccountHoldings] = {}
        self.securities: dict[SecurityId, ParsedSecurity] = {}
        self.skipped: Counter[str] = Counter()
        self.notes: list[str] = []
        self.rows = 0
        self._summary_lines = 0
        self._after_blank = False
        self._ended = False

    def read(self, line: int, row: list[str]) -> None:
        if not any(cell.strip() for cell in row):
            self._after_blank = self._layout.ends_at_blank_line
            return
        keys = [column_key(cell) for cell in row]
        if keys == self._header:  # the header again: a page break, or the next account's block
            self._after_blank = False
            self._count("repeated header lines")
            return
        # Vanguard's transactions follow its positions after a blank line, under a header of
        # their own (naming a symbol column too): not read here.
        if self._ended or self._after_blank or column_key(self._layout.symbol) in keys:
            self._ended = True
            self.skipped["lines after the positions"] += 1
            return
        if self._is_summary(row):
            self._summary_lines += 1
            self.notes.append(" ".join(cell.strip() for cell in row if cell.strip()))
            return
        self._row(line, row)

    def finish(self) -> dict[str, int]:
        """Rows left out, by reason; summary lines after the last position are the footer."""
        if self._summary_lines:
            self.skipped["footer lines"] += self._summary_lines
            self._summary_lines = 0
        return dict(self.skipped)

    def _count(self, reason: str) -> None:
        self.skipped[reason] += 1
        self._flush_summary()

    def _flush_summary(self) -> None:
        # Summary lines with positions after them sat between the rows (an account's total).
        if self._summary_lines:
            self.skipped["summary lines"] += self._summary_lines
            self._summary_lines = 0

    def _is_summary(self, row: list[str]) -> bool:
        filled = [cell.strip() for cell in row if cell.strip()]
        label = self._cell(row, self._layout.symbol).strip() or filled[0]
        return len(filled) == 1 or label.casefold().startswith(SUMMARY_WORDS)

    def _row(self, line: int, row: list[str]) -> None:
        where = f"line {line}"
        layout = self._layout
        self._flush_summary()
        self.rows += 1
        account = self._account(row, where)
        account.last_line = line
        symbol = self._cell(row, layout.symbol).strip()
        quantity = self._cell(row, layout.quantity).strip()
        if column_key(symbol) in PENDING_SYMBOLS:
            account.pending = (account.pending or Decimal(0)) + self._cash_value(row, where)
        elif self._is_cash(row, symbol, quantity):
            account.cash = (account.cash or Decimal(0)) + self._cash_value(row, where)
        else:
            self._position(account, row, where, symbol)

    def _is_cash(self, row: list[str], symbol: str, quantity: str) -> bool:
        suffix = self._layout.cash_symbol_suffix
        if suffix and symbol.endswith(suffix):
            return True
        if column_key(self._cell(row, self._layout.kind)) in CASH_TYPES:
            return True
        return column_key(symbol) in CASH_SYMBOLS and is_blank(quantity)

    def _account(self, row: list[str], where: str) -> AccountHoldings:
        layout = self._layout
        # An identifier is matched on every import: refused, never altered (see check_identifier).
        number = self._cell(row, layout.account).strip()
        if number:
            check_identifier(number, location=self._at(where, layout.account), field="the account")
            if len(number) > MAX_ACCOUNT_ID:
                reject(
                    f"the account is longer than {MAX_ACCOUNT_ID} characters",
                    location=self._at(where, layout.account),
                )
        key = number or self._default_account
        account = self.accounts.get(key)
        if account is None:
            name = clean_text(self._cell(row, layout.account_name)).strip()[:100]
            account = self.accounts[key] = AccountHoldings(key, name=name or None)
        self._currency(account, row, where)
        return account

    def _currency(self, account: AccountHoldings, row: list[str], where: str) -> None:
        name = self._layout.currency_column
        text = self._cell(row, name).strip()
        code = self._layout.currency
        if name and text:
            match parse_currency(text):
                case Failure(error):
                    reject(error.message, location=self._at(where, name), code="invalid_currency")
                case Success(found):
                    code = found
        if account.currency is None:
            account.currency = code
        elif code != account.currency:
            reject(
                f"the row is in {code} but the account's rows before it are in "
                f"{account.currency}: one account is valued in one currency",
                location=self._at(where, name),
                code="invalid_currency",
            )

    def _cash_value(self, row: list[str], where: str) -> Decimal:
        layout = self._layout
        value = self._number(row, layout.value, where, MONEY_PLACES)
        if value is not None:
            return value
        units = self._number(row, layout.quantity, where, UNIT_PLACES)
        price = self._number(row, layout.price, where, UNIT_PLACES)
        if units is None or price is None:
            reject("the cash line has no value", location=where, code="invalid_amount")
            raise AssertionError("unreachable")
        return (units * price).quantize(_MONEY, rounding=ROUND_HALF_EVEN)

    def _position(self, account: AccountHoldings, row: list[str], where: str, symbol: str) -> None:
        layout = self._layout
        if not symbol:
            reject(f'column "{layout.symbol}" is empty', location=where)
        prefix = layout.option_symbol_prefix
        is_option = bool(prefix) and symbol.startswith(prefix or "")
        security = security_id(
            symbol[len(prefix or "") :] if is_option else symbol,
            where=self._at(where, layout.symbol),
        )
        units, price, value = self._amounts(row, where)
        sub_account = held_in(self._cell(row, layout.held_in))
        short = units < 0 or sub_account is HeldIn.SHORT
        position = ParsedPosition(
            security_id=security,
            units=units,
            unit_price=price,
            market_value=value,
            position_type=PositionType.SHORT if short else PositionType.LONG,
            held_in=sub_account,
            cost_basis=self._number(row, layout.cost_basis, where, MONEY_PLACES),
        )
        kind = SecurityKind.OPTION if is_option else security_kind(self._cell(row, layout.kind))
        self._describe(security, row, kind, price, account.currency)
        # Lots in different sub-accounts (Fidelity's cash and margin) are separate positions.
        key = (security, position.held_in, position.position_type)
        earlier = account.positions.get(key)
        account.positions[key] = position if earlier is None else _merged(earlier, position)

    def _amounts(self, row: list[str], where: str) -> tuple[Decimal, Decimal, Decimal]:
        """Units, unit price and market value; a missing price or value follows from the other."""
        layout = self._layout
        units = self._number(row, layout.quantity, where, UNIT_PLACES)
        if units is None:
            if len(row) < self._width:
                reject(f"the row has {len(row)} of {self._width} columns", location=where)
            reject(f'column "{layout.quantity}" is empty', location=where, code="invalid_amount")
            raise AssertionError("unreachable")
        price = self._number(row, layout.price, where, UNIT_PLACES)
        value = self._number(row, layout.value, where, MONEY_PLACES)
        if value is None and price is not None:
            value = (units * price).quantize(_MONEY, rounding=ROUND_HALF_EVEN)
        if price is None and value is not None and units:
            with localcontext() as context:
                context.prec = 60  # a large value over a tiny fraction of a unit
                price = abs(value / units).quantize(_UNIT, rounding=ROUND_HALF_EVEN)
        if price is None or value is None:
            columns = " or ".join(f'"{name}"' for name in (layout.price, layout.value) if name)
            reject(f"the position has no {columns}", location=where, code="invalid_amount")
            raise AssertionError("unreachable")
        return units, price, value

    def _describe(
        self,
        security: SecurityId,
        row: list[str],
        kind: SecurityKind,
        price: Decimal,
        currency: str | None,
    ) -> None:
        if security in self.securities:
            return
        name = clean_text(self._cell(row, self._layout.description)).strip()[:255]
        self.securities[security] = ParsedSecurity(
            security_id=security,
            name=name or security.unique_id,
            ticker=security.unique_id if security.unique_id_type == "TICKER" else None,
            kind=kind,
            currency=currency,
            unit_price=price,
        )

    def _number(self, row: list[str], name: str | None, where: str, places: int) -> Decimal | None:
        return read_number(
            self._cell(row, name),
            places=places,
            decimal_separator=self._layout.decimal_separator,
            where=self._at(where, name),
        )

    def _cell(self, row: list[str], name: str | None) -> str:
        position = self._columns.get(column_key(name)) if name else None
        if position is None or position >= len(row):
            return ""
        return row[position]

    @staticmethod
    def _at(where: str, column: str | None) -> str:
        return f'{where} column "{column}"' if column else where


def _merged(first: ParsedPosition, second: ParsedPosition) -> ParsedPosition:
    """One security listed twice in the same sub-account, long or short alike: one position."""
    cost = None
    if first.cost_basis is not None and second.cost_basis is not None:
        cost = first.cost_basis + second.cost_basis
    return replace(
        first,
        units=first.units + second.units,
        market_value=first.market_value + second.market_value,
        cost_basis=cost,
    )
