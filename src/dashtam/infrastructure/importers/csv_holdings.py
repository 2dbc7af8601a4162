"""Positions (holdings) CSV exports: what a brokerage account holds on one day.

Each account the file names becomes one ``StatementPart`` with no transactions: its positions,
its cash (money-market core positions and cash lines are cash, not positions) and its value.
The whole file is read before the first part, since the date it is as of may be in its footer
(Fidelity) and every part must carry it; positions exports hold hundreds of rows, not millions.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from itertools import accumulate, chain, islice

from dashtam.core.clock import utcnow
from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.imports.investments import InvestmentData, ParsedInvestmentBalance
from dashtam.domain.imports.statement import (
    ImportLimits,
    ParsedAccount,
    ParsedStatement,
    StatementPart,
    collect,
    import_error,
)
from dashtam.infrastructure.importers.csv_holdings_layout import HoldingsLayout, HoldingsPreset
from dashtam.infrastructure.importers.csv_holdings_rows import AccountHoldings, HoldingsRows
from dashtam.infrastructure.importers.csv_holdings_values import Stated, stated
from dashtam.infrastructure.importers.csv_text import (
    HEADER_SEARCH_LINES,
    decode,
    lines,
    match_header,
)
from dashtam.infrastructure.importers.safety import (
    FileRejectedError,
    check_identifier,
    check_size,
    reject,
)

__all__ = ["HoldingsCsvParser"]

_PARSE_BATCH = 10_000
# The account of a file that names none, when the import names none either (as for bank CSVs).
DEFAULT_ACCOUNT_ID = "main"


@dataclass(frozen=True, slots=True)
class _Header:
    index: int  # 0-based line index of the header row
    delimiter: str
    layout: HoldingsLayout
    names: tuple[str, ...]


class HoldingsCsvParser:
    """The ``StatementParser`` for positions exports on ``csv-file`` connections.

    ``now`` gives the import time, the as-of date of a file that states none.
    """

    format = "csv"

    def __init__(
        self,
        layout: HoldingsLayout | HoldingsPreset,
        *,
        account: str | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._preset = layout if isinstance(layout, HoldingsPreset) else HoldingsPreset((layout,))
        self._account = (account or "").strip()[:64] or DEFAULT_ACCOUNT_ID
        self._now = now

    def parse(
        self, data: bytes, *, limits: ImportLimits
    ) -> Result[ParsedStatement, ValidationError]:
        return collect(
            self.stream(data, limits=limits, batch_size=_PARSE_BATCH), format=self.format
        )

    def stream(
        self, data: bytes, *, limits: ImportLimits, batch_size: int
    ) -> Iterator[Result[StatementPart, ValidationError]]:
        """One part per account; ``batch_size`` does not apply (positions come together)."""
        try:
            parts = self._parts(data, limits)
        except FileRejectedError as exc:
            yield Failure(exc.error)
            return
        except csv.Error as exc:  # e.g. a header cell over the csv module's field limit
            yield Failure(import_error(f"not a readable CSV file ({exc})", code="invalid_csv"))
            return
        for part in parts:
            yield Success(part)

    def _parts(self, data: bytes, limits: ImportLimits) -> list[StatementPart]:
        check_size(data, limits)
        check_identifier(self._account, location="account", field="the account name")
        text = decode(data)
        total_lines = text.count("\n") + 1
        header = _find_header(text, self._preset)
        reader = HoldingsRows(header.layout, header.names, account=self._account)
        for line, row in _rows(text, header):
            reader.read(line, row)
            if reader.rows > limits.max_transactions:
                reject(f"more than {limits.max_transactions} rows", code="too_many_rows")
        if not reader.accounts:
            reject("the file has a header but no positions", code="empty_file")
        said = _stated(text, header, reader.notes)
        as_of = said.as_of or datetime.combine(self._now().date(), time.min, tzinfo=UTC)
        # Progress never goes back, though accounts' rows may interleave.
        done = accumulate((account.last_line for account in reader.accounts.values()), max)
        parts = [
            self._part(account, as_of, said, done=line, total=total_lines)
            for account, line in zip(reader.accounts.values(), done, strict=True)
        ]
        securities = [
            replace(security, price_as_of=said.as_of) for security in reader.securities.values()
        ]
        parts[0] = replace(parts[0], securities=securities)
        parts[-1] = replace(parts[-1], done=total_lines, skipped=reader.finish())
        return parts

    def _part(
        self, holdings: AccountHoldings, as_of: datetime, said: Stated, *, done: int, total: int
    ) -> StatementPart:
        # Prices are as of the date the file states; a file that states none does not date them.
        positions = [
            replace(position, price_as_of=said.as_of) for position in holdings.positions.values()
        ]
        # Pending activity (trades not yet settled) is part of what the account is worth,
        # though not cash one can use yet: it is kept apart in the balance's details.
        value = sum((p.market_value for p in positions), start=holdings.pending or Decimal(0))
        details = {"pending activity": str(holdings.pending)} if holdings.pending else {}
        account = ParsedAccount(
            provider_account_id=holdings.provider_account_id,
            account_type=AccountType.BROKERAGE,
            currency=holdings.currency or "USD",
            name=holdings.name or (said.account_label or "")[:100] or None,
            balance=(holdings.cash or Decimal(0)) + value,
            balance_as_of=as_of,
        )
        return StatementPart(
            account=account,
            transactions=(),
            done=done,
            total=total,
            investment=InvestmentData(
                as_of=as_of,
                positions=positions,
                balance=ParsedInvestmentBalance(available_cash=holdings.cash, details=details),
            ),
        )


def _find_header(text: str, preset: HoldingsPreset) -> _Header:
    """The first line, among the first 30, naming every column of one of the layouts."""
    for index, line in enumerate(lines(text)):
        if index >= HEADER_SEARCH_LINES:
            break
        found = match_header(line.rstrip("\r\n"), preset.variants, preset.detect)
        if found is not None:
            delimiter, layout, names = found
            return _Header(index, delimiter, layout, names)
    if preset.variants:
        wanted = " or ".join(
            ", ".join(quoted(name) for name in layout.required_columns())
            for layout in preset.variants
        )
    else:
        wanted = "a symbol, a quantity and a price or market value"
    reject(
        f"no header row with columns {wanted} in the first {HEADER_SEARCH_LINES} lines",
        code="invalid_csv",
    )
    raise AssertionError("unreachable")


def _rows(text: str, header: _Header) -> Iterator[tuple[int, list[str]]]:
    """Each row after the header with its (1-based) line number; an unreadable row is refused."""
    first = header.index + 1
    reader = csv.reader(lines(text, first), delimiter=header.delimiter)
    while True:
        line = first + reader.line_num + 1  # a quoted cell may span lines: its first line
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reject(f"not a readable CSV row ({exc})", location=f"line {line}", code="invalid_csv")
        yield line, row


def _stated(text: str, header: _Header, notes: list[str]) -> Stated:
    """The date (and account) the title lines above the header or the footer lines state."""
    as_of, label = None, None
    for line in chain(islice(lines(text), header.index), notes):
        said = stated(line)
        as_of = as_of or said.as_of
        label = label or said.account_label
    return Stated(as_of, label)
