"""Generic CSV statements: a preset or a column mapping, auto-detected header and dialect."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import islice
from typing import Any

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    ParsedTransaction,
    StatementPart,
    collect,
    import_error,
)
from dashtam.domain.money import parse_amount, parse_currency
from dashtam.domain.transactions.entities import TransactionStatus
from dashtam.infrastructure.importers.csv_presets import MAPPING_KEYS, PRESETS, CsvLayout
from dashtam.infrastructure.importers.safety import (
    FileRejectedError,
    check_date,
    check_identifier,
    check_size,
    clean_text,
    decode_text,
    reject,
)

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%m/%d/%y", "%d.%m.%y")
_HEADER_SEARCH_LINES = 30
_PARSE_BATCH = 10_000
CSV_ACCOUNT_ID = "main"


def layout_from(
    preset: str | None, mapping: dict[str, Any] | None
) -> Result[CsvLayout, ValidationError]:
    """The layout for a preset name or a user's mapping (unknown keys are refused)."""
    if preset:
        layout = PRESETS.get(preset)
        if layout is None:
            known = ", ".join(sorted(PRESETS))
            return Failure(
                ValidationError(
                    f"unknown CSV preset {preset!r} (known: {known})", code="invalid_mapping"
                )
            )
        return Success(layout)
    if not mapping:
        return Failure(
            ValidationError("a CSV import needs a preset or a mapping", code="invalid_mapping")
        )
    # Column names end up in error locations (and so in the audit trail); a tab delimiter is fine.
    if any(_has_control(str(v)) for k, v in mapping.items() if k != "delimiter"):
        return Failure(
            ValidationError(
                "mapping values must not contain control characters", code="invalid_mapping"
            )
        )
    unknown = set(mapping) - MAPPING_KEYS
    if unknown:
        return Failure(
            ValidationError(
                f"unknown mapping keys: {', '.join(sorted(unknown))}", code="invalid_mapping"
            )
        )
    if "date" not in mapping or "description" not in mapping:
        return Failure(
            ValidationError("the mapping needs 'date' and 'description'", code="invalid_mapping")
        )
    if "amount" not in mapping and not ("debit" in mapping or "credit" in mapping):
        return Failure(
            ValidationError(
                "the mapping needs 'amount' or 'debit'/'credit'", code="invalid_mapping"
            )
        )
    delimiter = mapping.get("delimiter")
    if delimiter is not None and len(str(delimiter)) != 1:
        return Failure(ValidationError("'delimiter' must be one character", code="invalid_mapping"))
    if mapping.get("decimal_separator") not in (None, ".", ","):
        return Failure(
            ValidationError("'decimal_separator' must be '.' or ','", code="invalid_mapping")
        )
    values: dict[str, Any] = {
        k: v for k, v in mapping.items() if k not in ("account_type", "negate", "currency")
    }
    if "currency" in mapping:
        match parse_currency(str(mapping["currency"])):
            case Failure(error):
                return Failure(error)
            case Success(code):
                values["currency"] = code
    if "account_type" in mapping:
        try:
            values["account_type"] = AccountType(str(mapping["account_type"]))
        except ValueError:
            return Failure(
                ValidationError(
                    f"unknown account_type {mapping['account_type']!r}", code="invalid_mapping"
                )
            )
    if "negate" in mapping:
        values["negate"] = str(mapping["negate"]).lower() in ("1", "true", "yes")
    return Success(CsvLayout(**values))


class CsvParser:
    """The ``StatementParser`` for ``csv-file`` connections."""

    format = "csv"

    def __init__(self, layout: CsvLayout, *, account: str | None = None) -> None:
        self._layout = layout
        self._account = (account or "").strip()[:64] or CSV_ACCOUNT_ID

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]:
        return collect(
            self.stream(data, limits=limits, batch_size=_PARSE_BATCH), format=self.format
        )

    def stream(
        self, data: bytes, *, limits: ImportLimits, batch_size: int
    ) -> Iterator[Result[StatementPart, ValidationError]]:
        try:
            for part in self._stream(data, limits, batch_size):
                yield Success(part)
        except FileRejectedError as exc:
            yield Failure(exc.error)
        except csv.Error as exc:  # e.g. a header cell over the csv module's field limit
            yield Failure(import_error(f"not a readable CSV file ({exc})", code="invalid_csv"))

    def _stream(
        self, data: bytes, limits: ImportLimits, batch_size: int
    ) -> Iterator[StatementPart]:
        """Rows are read lazily and handed out ``batch_size`` at a time: parsed rows in memory
        never exceed one batch, whatever the size of the file."""
        check_size(data, limits)
        # The account name is an identifier (matched on every import): refused, never altered.
        check_identifier(self._account, location="account", field="the account name")
        layout = self._layout
        text = decode_text(data)
        total_lines = text.count("\n") + 1
        head = [line.rstrip("\r\n") for line in islice(_lines(text), _HEADER_SEARCH_LINES)]
        header_index, delimiter = self._find_header(head)
        lines = _lines(text)
        for _ in range(header_index):
            next(lines)
        reader = csv.reader(lines, delimiter=delimiter)
        header = [cell.strip() for cell in next(reader)]
        # Header names match case-insensitively, as the header search does.
        columns = {name.lower(): position for position, name in enumerate(header)}
        account = ParsedAccount(
            provider_account_id=self._account,
            account_type=layout.account_type,
            currency=layout.currency,
        )
        occurrences: Counter[int] = Counter()
        # Only the first and last running balances matter (see _closing_balance).
        balances: list[tuple[date, Decimal]] = []
        batch: list[ParsedTransaction] = []
        count = 0
        line = header_index + 1
        for line, row in _rows(reader, header_index):
            if not any(cell.strip() for cell in row):
                continue
            where = f"line {line}"
            cell = _Cells(row, columns, where)
            posted_on = self._date(cell.get(layout.date, required=True) or "", where)
            if layout.balance and cell.get(layout.balance):
                balance = self._plain_amount(
                    cell.get(layout.balance) or "", f"{where} {layout.balance}"
                )
                balances[min(len(balances), 1) :] = [(posted_on, balance)]
            if len(row) < len(header) and self._no_amount(cell):
                # Cut short before its amount: a broken line, not a balance line.
                reject(
                    f"the row has {len(row)} of {len(header)} columns",
                    location=where,
                    code="invalid_csv",
                )
            if self._no_amount(cell):
                # A balance line ("Beginning balance as of ..."), not a transaction.
                continue
            count += 1
            if count > limits.max_transactions:
                reject(f"more than {limits.max_transactions} rows", code="too_many_rows")
            batch.append(self._transaction(cell, posted_on, where, occurrences))
            if len(batch) >= batch_size:
                yield StatementPart(
                    account=account, transactions=batch, done=line, total=total_lines
                )
                batch = []
        if count == 0:
            reject("the file has a header but no transactions", code="empty_file")
        closing = replace(account)
        if balances:
            as_of, closing.balance = _closing_balance(balances)
            closing.balance_as_of = datetime.combine(as_of, time.min, tzinfo=UTC)
        yield StatementPart(
            account=closing, transactions=batch, done=total_lines, total=total_lines
        )

    def _transaction(
        self,
        cell: _Cells,
        posted_on: date,
        where: str,
        occurrences: Counter[int],
    ) -> ParsedTransaction:
        layout = self._layout
        amount = self._amount(cell, where)
        description = clean_text(cell.get(layout.description, required=True) or "").strip()
        if not description:
            reject(f"column {layout.description!r} is empty", location=where)
        status = TransactionStatus.POSTED
        if (
            layout.status
            and (cell.get(layout.status) or "").strip().lower() in layout.pending_values
        ):
            status = TransactionStatus.PENDING
        given_id = cell.get(layout.transaction_id) if layout.transaction_id else None
        if given_id:
            transaction_id = check_identifier(
                given_id.strip()[:255],
                location=f"{where} {layout.transaction_id}",
                field="the transaction id",
            )
        else:
            # No id in the file: derive one from the content, numbering identical rows so
            # that two equal coffees on one day stay two transactions on every re-import.
            key = (posted_on.isoformat(), str(amount), description)
            # Counted by an 8-byte digest: the one thing kept per row is small.
            seen = int.from_bytes(
                hashlib.blake2b("\x1f".join(key).encode(), digest_size=8).digest()
            )
            occurrences[seen] += 1
            transaction_id = _content_id(key, occurrences[seen])
        payee = clean_text(cell.get(layout.payee) or "").strip()[:255] if layout.payee else ""
        memo = clean_text(cell.get(layout.memo) or "").strip()[:500] if layout.memo else ""
        return ParsedTransaction(
            provider_transaction_id=transaction_id,
            amount=amount,
            posted_on=posted_on,
            description=description[:500],
            payee=payee or None,
            memo=memo or None,
            status=status,
        )

    def _find_header(self, lines: list[str]) -> tuple[int, str]:
        """The first line naming the date and description columns (exports prepend summaries)."""
        wanted = {self._layout.date.lower(), self._layout.description.lower()}
        for index, line in enumerate(lines[:_HEADER_SEARCH_LINES]):
            delimiter = self._layout.delimiter or _sniff(line)
            cells = {
                cell.strip().strip('"').lower()
                for cell in next(csv.reader([line], delimiter=delimiter), [])
            }
            if wanted <= cells:
                return index, delimiter
        reject(
            f"no header row with columns {self._layout.date!r} and {self._layout.description!r} "
            f"in the first {_HEADER_SEARCH_LINES} lines",
            code="invalid_csv",
        )
        raise AssertionError("unreachable")

    def _date(self, text: str, where: str) -> date:
        value = text.strip()
        formats = (self._layout.date_format,) if self._layout.date_format else _DATE_FORMATS
        for fmt in formats:
            try:
                parsed = datetime.strptime(value, fmt).date()
            except ValueError:
                continue
            return check_date(parsed, location=where, text=value)
        reject(
            f"{value!r} is not a date"
            + (f" in format {self._layout.date_format}" if self._layout.date_format else ""),
            location=where,
            code="invalid_date",
        )
        raise AssertionError("unreachable")

    def _no_amount(self, cell: _Cells) -> bool:
        names = (
            [self._layout.amount]
            if self._layout.amount
            else [self._layout.debit, self._layout.credit]
        )
        return all(not (cell.get(name) or "").strip() for name in names if name)

    def _amount(self, cell: _Cells, where: str) -> Decimal:
        layout = self._layout
        if layout.amount:
            amount = self._plain_amount(
                cell.get(layout.amount, required=True) or "", f"{where} {layout.amount}"
            )
        else:
            debit = cell.get(layout.debit) if layout.debit else None
            credit = cell.get(layout.credit) if layout.credit else None
            if not (debit or "").strip() and not (credit or "").strip():
                reject("neither debit nor credit is filled", location=where, code="invalid_amount")
            amount = Decimal(0)
            if (credit or "").strip():
                amount += abs(self._plain_amount(credit or "", f"{where} {layout.credit}"))
            if (debit or "").strip():
                amount -= abs(self._plain_amount(debit or "", f"{where} {layout.debit}"))
        return -amount if layout.negate else amount

    def _plain_amount(self, text: str, where: str) -> Decimal:
        cleaned = text.strip().lstrip("$€£¥").replace("$", "").replace("€", "").replace("£", "")
        match parse_amount(cleaned, decimal_separator=self._layout.decimal_separator):
            case Success(value):
                return value
            case Failure(error):
                reject(error.message, location=where, code="invalid_amount")
        raise AssertionError("unreachable")


class _Cells:
    def __init__(self, row: list[str], columns: dict[str, int], where: str) -> None:
        self._row = row
        self._columns = columns
        self._where = where

    def get(self, name: str | None, *, required: bool = False) -> str | None:
        if name is None:
            return None
        position = self._columns.get(name.lower())
        if position is None:
            reject(
                f"column {name!r} is not in the header", location=self._where, code="invalid_csv"
            )
            return None
        if position >= len(self._row):
            if required:
                reject(f"column {name!r} is missing", location=self._where, code="invalid_csv")
            return None
        return self._row[position]


def _rows(reader: Iterator[list[str]], first: int) -> Iterator[tuple[int, list[str]]]:
    """Each row with its file line number; an unreadable row is refused with its line."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = first + reader.line_num  # type: ignore[attr-defined]
            reject(f"not a readable CSV row ({exc})", location=f"line {line}", code="invalid_csv")
        yield first + reader.line_num, row  # type: ignore[attr-defined]


def _closing_balance(balances: list[tuple[date, Decimal]]) -> tuple[date, Decimal]:
    """The running balance after the newest row, whichever way the export is sorted."""
    newest_first = balances[0][0] > balances[-1][0]
    return balances[0] if newest_first else balances[-1]


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` (ends kept, as csv expects), without copying the text."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def _has_control(text: str) -> bool:
    return any(ord(char) < 0x20 or char == "\x7f" for char in text)


def _sniff(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _content_id(key: tuple[str, str, str], occurrence: int) -> str:
    digest = hashlib.sha256("\x1f".join((*key, str(occurrence))).encode()).hexdigest()
    return f"csv:{digest[:40]}"
