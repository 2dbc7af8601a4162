"""CSV statements: a bank's preset or a user's mapping, read as banks really write files.

The file is read twice, both times lazily: a first pass surveys every date and amount so the
whole file is read one way (see csv_values), the second turns rows into transactions and hands
them out ``batch_size`` at a time. Ids are described in csv_ids.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, time

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    ParsedTransaction,
    StatementPart,
    collect,
    import_error,
)
from dashtam.infrastructure.importers.csv_layout import CsvLayout, CsvPreset, column_key
from dashtam.infrastructure.importers.csv_mapping import layout_from
from dashtam.infrastructure.importers.csv_rows import RowReader
from dashtam.infrastructure.importers.csv_text import Header, decode, find_header, lines
from dashtam.infrastructure.importers.csv_values import FileSurvey
from dashtam.infrastructure.importers.safety import (
    FileRejectedError,
    check_identifier,
    check_size,
    reject,
)

__all__ = ["CSV_ACCOUNT_ID", "CsvParser", "layout_from"]

_PARSE_BATCH = 10_000
CSV_ACCOUNT_ID = "main"


class CsvParser:
    """The ``StatementParser`` for ``csv-file`` connections."""

    format = "csv"

    def __init__(self, layout: CsvLayout | CsvPreset, *, account: str | None = None) -> None:
        self._preset = layout if isinstance(layout, CsvPreset) else CsvPreset((layout,))
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
        """Parsed rows in memory never exceed one batch, whatever the size of the file."""
        check_size(data, limits)
        # The account name is an identifier (matched on every import): refused, never altered.
        check_identifier(self._account, location="account", field="the account name")
        text = decode(data)
        total_lines = text.count("\n") + 1
        header = find_header(text, self._preset)
        reader = self._reader(text, header)
        batch: list[ParsedTransaction] = []
        count = 0
        for line, row in _rows(text, header):
            transaction = reader.read(line, row)
            if reader.ended:
                break
            if transaction is None:
                continue
            count += 1
            if count > limits.max_transactions:
                reject(f"more than {limits.max_transactions} rows", code="too_many_rows")
            batch.append(transaction)
            if len(batch) >= batch_size:
                yield StatementPart(
                    account=self._account_of(reader, header.layout),
                    transactions=batch,
                    done=line,
                    total=total_lines,
                )
                batch = []
        if count == 0:
            reject("the file has a header but no transactions", code="empty_file")
        closing = self._account_of(reader, header.layout)
        if (balance := reader.closing_balance()) is not None:
            as_of, closing.balance = balance
            closing.balance_as_of = datetime.combine(as_of, time.min, tzinfo=UTC)
        yield StatementPart(
            account=closing,
            transactions=batch,
            done=total_lines,
            total=total_lines,
            skipped=reader.finish(),
        )

    def _reader(self, text: str, header: Header) -> RowReader:
        layout = header.layout
        survey = FileSurvey()
        dates_decided = layout.date_format is not None or layout.date_order is not None
        if not dates_decided or layout.decimal_separator is None:
            _survey(text, header, survey)
        return RowReader(
            layout,
            header.names,
            account=self._account,
            date_order=layout.date_order or survey.date_order(day_first=layout.day_first),
            decimal_separator=layout.decimal_separator or survey.decimal_separator(),
            decided_by=None if layout.date_order else survey.decided_by,
        )

    def _account_of(self, reader: RowReader, layout: CsvLayout) -> ParsedAccount:
        return ParsedAccount(
            provider_account_id=self._account,
            account_type=layout.account_type,
            currency=reader.currency or layout.currency,
        )


def _rows(text: str, header: Header) -> Iterator[tuple[int, list[str]]]:
    """Each row after the header with its line number; an unreadable row is refused."""
    first = header.index + 1
    reader = csv.reader(lines(text, first), delimiter=header.delimiter)
    while True:
        # A quoted cell may span lines: a row is named by the line it starts on.
        line = first + reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reject(f"not a readable CSV row ({exc})", location=f"line {line}", code="invalid_csv")
        yield line, row


def _survey(text: str, header: Header, survey: FileSurvey) -> None:
    """Every date and amount cell, seen before any row is read (broken rows fail later)."""
    layout = header.layout
    positions = {column_key(name): index for index, name in enumerate(header.names)}

    def position(name: str | None) -> int | None:
        return positions.get(column_key(name)) if name else None

    date_at = position(layout.date)
    amounts = [
        index
        for name in (layout.amount, layout.debit, layout.credit, layout.balance, layout.fee)
        if (index := position(name)) is not None
    ]
    try:
        for line, row in _rows(text, header):
            if date_at is not None and date_at < len(row):
                survey.see_date(line, row[date_at])
            for index in amounts:
                if index < len(row) and row[index].strip():
                    survey.see_amount(row[index])
    except (FileRejectedError, csv.Error):
        return
