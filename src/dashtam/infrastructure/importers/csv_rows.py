"""One CSV row at a time: a transaction, a row left out (and why), or a plain error."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from dashtam.core.result import Failure, Success
from dashtam.core.text import quoted
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.money import parse_currency
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.importers.csv_ids import DerivedIds
from dashtam.infrastructure.importers.csv_layout import (
    DROPPED_LABELS,
    INCOMING_VALUES,
    OUTGOING_VALUES,
    CsvLayout,
    DateOrder,
    column_key,
)
from dashtam.infrastructure.importers.csv_values import (
    read_amount,
    read_date,
    read_date_with_format,
)
from dashtam.infrastructure.importers.safety import (
    check_date,
    check_identifier,
    clean_text,
    reject,
)

# A cell shaped like a date, valid or not ("13/45/2026" is a broken row, not a footer).
_DATE_SHAPED = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}.*|\d{8}.*"
    r"|\d{1,2}\.? ?[^\W\d_]{3,}.*|[^\W\d_]{3,}\.? \d{1,2},? \d{4}.*"
)
# How summary rows of exports begin: totals, balances, counts, end markers.
_SUMMARY_WORDS = (
    "total",
    "sum",
    "summe",
    "gesamt",
    "totaal",
    "somme",
    "suma",
    "subtotal",
    "balance",
    "saldo",
    "solde",
    "kontostand",
    "alter kontostand",
    "neuer kontostand",
    "opening",
    "closing",
    "ending",
    "beginning",
    "anfangssaldo",
    "endsaldo",
    "end of",
    "count",
    "anzahl",
    "number of",
)
_END_MARKER = re.compile(r"\W*end of (file|report|statement|data|export)\W*", re.IGNORECASE)


class RowReader:
    """Reads a file's rows with the decisions made for the whole file (date order, decimals).

    Rows that are not transactions are counted in ``skipped`` by reason. Summary lines (totals,
    balances, an end marker) are told apart from broken rows by their shape: their date cell
    does not look like a date, and they start with a summary word, a symbol, or fill one cell.
    """

    def __init__(
        self,
        layout: CsvLayout,
        names: Sequence[str],
        *,
        account: str,
        date_order: DateOrder,
        decimal_separator: str | None,
        decided_by: tuple[int, str] | None = None,
    ) -> None:
        self._layout = layout
        # A repeated name (ING's two "Währung") means its last column, the amount's own.
        self._columns = {column_key(name): position for position, name in enumerate(names)}
        self._width = len(names)
        self._positions: dict[str, int | None] = {}  # layout name -> column, looked up once
        self._header = [column_key(name) for name in names]
        self._date_order = date_order
        self._decimals = decimal_separator
        self._decided_by = decided_by
        self._ids = DerivedIds(account)
        self.skipped: Counter[str] = Counter()
        self.currency: str | None = None if layout.currency_column else layout.currency
        # Only the first and last running balances matter (see closing_balance).
        # The first and last rows with a running balance: (date, balance, the row's amount).
        self.balances: list[tuple[date, Decimal, Decimal]] = []
        self._balanced_total = Decimal(0)
        self.ended = False
        self._summary_lines = 0

    def read(self, line: int, row: list[str]) -> ParsedTransaction | None:
        """The row's transaction, or None for a row that is not one (counted in ``skipped``)."""
        if not any(cell.strip() for cell in row):
            return None
        where = f"line {line}"
        if not _DATE_SHAPED.fullmatch(self._cell(row, self._layout.date, where).strip()):
            if [column_key(cell) for cell in row] == self._header:
                self._count("repeated header lines")  # exports printed page by page repeat it
                return None
            if self._is_summary(row):
                self._summary_lines += 1
                self.ended = _END_MARKER.fullmatch(" ".join(row).strip()) is not None
                return None
        status_text = " ".join(self._cell(row, self._layout.status, where).casefold().split())
        if status_text in self._layout.dropped_values:
            self._count(f"{DROPPED_LABELS.get(status_text, status_text)} rows")
            return None
        posted_on = self._date(self._cell(row, self._layout.date, where, required=True), where)
        no_amount = self._no_amount(row, where)
        if no_amount and len(row) < self._width:
            reject(
                f"the row has {len(row)} of {self._width} columns",
                location=where,
                code="invalid_csv",
            )
        if no_amount:  # a balance line ("Beginning balance as of ..."), not a transaction
            self._balance(row, where, posted_on, Decimal(0))
            self._count("balance lines")
            return None
        status = (
            TransactionStatus.PENDING
            if status_text in self._layout.pending_values
            else TransactionStatus.POSTED
        )
        transaction = self._transaction(row, where, posted_on, status)
        self._balance(row, where, posted_on, transaction.amount)
        return transaction

    def finish(self) -> dict[str, int]:
        """Rows left out, by reason; summary lines after the last row are the footer."""
        if self._summary_lines:
            self.skipped["footer lines"] += self._summary_lines
            self._summary_lines = 0
        return dict(self.skipped)

    def closing_balance(self) -> tuple[date, Decimal] | None:
        """The running balance after the newest row, whichever way the export is sorted.

        The dates tell the order; when they cannot (one day's export), the balances do: oldest
        first, the last balance is the first plus every later amount; newest first, the
        first balance is the last plus every earlier amount.
        """
        if not self.balances:
            return None
        (first_day, first, first_amount), (last_day, last, last_amount) = (
            self.balances[0],
            self.balances[-1],
        )
        if first_day != last_day:
            newest_first = first_day > last_day
        else:
            total = self._balanced_total
            newest_first = (
                last - first != total - first_amount and first - last == total - last_amount
            )
        return (first_day, first) if newest_first else (last_day, last)

    def _count(self, reason: str) -> None:
        self.skipped[reason] += 1
        self._flush_summary()

    def _flush_summary(self) -> None:
        # Summary lines with rows after them sat between the rows (monthly totals).
        if self._summary_lines:
            self.skipped["summary lines"] += self._summary_lines
            self._summary_lines = 0

    def _transaction(
        self, row: list[str], where: str, posted_on: date, status: TransactionStatus
    ) -> ParsedTransaction:
        layout = self._layout
        amount = self._amount(row, where)
        self._check_currency(row, where)
        description = ""
        for name in (layout.description, *layout.description_fallbacks):
            description = clean_text(self._cell(row, name, where)).strip()
            if description:
                break
        if not description:
            reject(f'column "{layout.description}" is empty', location=where)
        given_id = self._cell(row, layout.transaction_id, where).strip()
        if given_id:
            transaction_id = check_identifier(
                given_id[:255],
                location=_at(where, layout.transaction_id),
                field="the transaction id",
            )
        else:
            transaction_id = self._ids.next_id(posted_on, amount, description)
        payee = clean_text(self._cell(row, layout.payee, where)).strip()[:255]
        memo = clean_text(self._cell(row, layout.memo, where)).strip()[:500]
        self._flush_summary()
        return ParsedTransaction(
            provider_transaction_id=transaction_id,
            amount=amount,
            posted_on=posted_on,
            description=description[:500],
            payee=payee or None,
            memo=memo or None,
            status=status,
        )

    def _cell(self, row: list[str], name: str | None, where: str, *, required: bool = False) -> str:
        if name is None:
            return ""
        position = self._positions.get(name, -1)
        if position == -1:
            position = self._positions[name] = self._columns.get(column_key(name))
        if position is None or position >= len(row):
            if required:
                reject(f'column "{name}" is missing', location=where, code="invalid_csv")
            return ""
        return row[position]

    @staticmethod
    def _is_summary(row: list[str]) -> bool:
        """Called for rows whose date cell does not look like a date."""
        filled = [cell.strip() for cell in row if cell.strip()]
        first = filled[0].casefold()
        return len(filled) == 1 or not first[0].isalnum() or first.startswith(_SUMMARY_WORDS)

    def _date(self, text: str, where: str) -> date:
        value = text.strip()
        layout = self._layout
        if layout.date_format:
            parsed = read_date_with_format(value, layout.date_format)
            hint = f" in the format {layout.date_format}"
        else:
            parsed = read_date(value, self._date_order)
            hint = self._order_hint(value)
        if parsed is None:
            reject(f"{quoted(value)} is not a date{hint}", location=where, code="invalid_date")
            raise AssertionError("unreachable")
        return check_date(parsed, location=where, text=value)

    def _order_hint(self, value: str) -> str:
        other = (
            DateOrder.MONTH_FIRST
            if self._date_order is DateOrder.DAY_FIRST
            else DateOrder.DAY_FIRST
        )
        if read_date(value, other) is None:
            return ""
        order = "day/month/year" if self._date_order is DateOrder.DAY_FIRST else "month/day/year"
        if self._decided_by is not None:
            line, text = self._decided_by
            return f" as {order}, the order line {line} ({quoted(text)}) shows this file uses"
        return f" as {order}, the order this file uses"

    def _balance(self, row: list[str], where: str, posted_on: date, amount: Decimal) -> None:
        name = self._layout.balance
        text = self._cell(row, name, where)
        if name and text.strip():
            balance = self._number(text, _at(where, name))
            self._balanced_total += amount
            self.balances[min(len(self.balances), 1) :] = [(posted_on, balance, amount)]

    def _no_amount(self, row: list[str], where: str) -> bool:
        layout = self._layout
        names = [layout.amount] if layout.amount else [layout.debit, layout.credit]
        return all(not self._cell(row, name, where).strip() for name in names if name)

    def _amount(self, row: list[str], where: str) -> Decimal:
        layout = self._layout
        if layout.amount:
            amount = self._number(
                self._cell(row, layout.amount, where, required=True), _at(where, layout.amount)
            )
            if layout.direction:
                amount = self._directed(amount, row, where)
        else:
            amount = Decimal(0)
            for name, sign in ((layout.credit, 1), (layout.debit, -1)):
                text = self._cell(row, name, where)
                if name and text.strip():
                    amount += sign * abs(self._number(text, _at(where, name)))
        if layout.negate:
            amount = -amount
        fee = self._cell(row, layout.fee, where)
        if layout.fee and fee.strip():
            amount -= abs(self._number(fee, _at(where, layout.fee)))
        return amount

    def _directed(self, amount: Decimal, row: list[str], where: str) -> Decimal:
        name = self._layout.direction or ""
        value = self._cell(row, name, where).strip()
        if value.casefold() in OUTGOING_VALUES:
            return -abs(amount)
        if value.casefold() in INCOMING_VALUES:
            return abs(amount)
        reject(
            f"{quoted(value)} says neither money in nor money out",
            location=_at(where, name),
            code="invalid_amount",
        )
        raise AssertionError("unreachable")

    def _number(self, text: str, where: str) -> Decimal:
        value, problem = read_amount(text, self._decimals)
        if value is None:
            reject(problem, location=where, code="invalid_amount")
            raise AssertionError("unreachable")
        return value

    def _check_currency(self, row: list[str], where: str) -> None:
        name = self._layout.currency_column
        text = self._cell(row, name, where).strip()
        if not name or not text:
            return
        match parse_currency(text):
            case Failure(error):
                reject(error.message, location=_at(where, name), code="invalid_currency")
            case Success(code) if self.currency is None:
                self.currency = code
            case Success(code) if code != self.currency:
                reject(
                    f"the row is in {code} but the rows before it are in {self.currency}: "
                    "import each currency's export on its own",
                    location=_at(where, name),
                    code="invalid_currency",
                )


def _at(where: str, column: str | None) -> str:
    return f'{where} column "{column}"'
