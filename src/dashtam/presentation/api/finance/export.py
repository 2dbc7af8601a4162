"""Transactions as CSV that no spreadsheet evaluates (OWASP CSV injection guidance).

Text cells are quoted, and every place where a spreadsheet could start a cell inside them --
the cell's start, or just after a separator a reader may split on (``,`` ``;`` tab ``|``, a
line break), spaces allowed -- gets a ``'`` before a formula trigger (``= + - @``, tab, CR).
Amounts are written as bare numbers: ``amount_text`` only ever produces an optional minus,
digits, a point and digits, which every spreadsheet reads as a number and none as a formula,
so ``-12.34`` stays usable in sums.

The file is streamed a page at a time through the same search as ``GET /transactions``: an
export of any size holds one page in memory, and every page read is audited like a list page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from decimal import Decimal

from dashtam.application.finance.queries import TransactionSlice
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.repository import TransactionCursor
from dashtam.presentation.decimals import amount_text

# New columns go at the end: readers that pick columns by position keep working.
HEADER = (
    "date",
    "amount",
    "currency",
    "description",
    "payee",
    "memo",
    "status",
    "id",
    "check_number",
    "reference",
)
EXPORT_PAGE = 1000
SEPARATORS = ",;\t|\r\n"
FORMULA_TRIGGERS = "=+-@\t\r"
# A cell start or a separator, then spaces, then a trigger: a quote goes before the trigger.
_INJECTABLE = re.compile(r"(^|[,;\t|\r\n])( *)(?=[=+\-@\t\r])")
_NUMBER = re.compile(r"^-?[0-9]+\.[0-9]+$")


def spreadsheet_safe(text: str | None) -> str:
    """``text`` with a ``'`` before every formula a spreadsheet could find in it."""
    if not text:
        return ""
    return _INJECTABLE.sub(r"\1\2'", text)


def amount_cell(amount: Decimal) -> Decimal | str:
    """A number cell (unquoted); anything else -- never expected -- is neutralised as text."""
    text = amount_text(amount)
    return Decimal(text) if _NUMBER.match(text) else spreadsheet_safe(text)


NextPage = Callable[[TransactionCursor], Awaitable[Result[TransactionSlice, Error]]]


class ExportInterruptedError(RuntimeError):
    """A page after the first could not be read: the download is cut off, not ended short."""

    def __init__(self, error: Error) -> None:
        super().__init__(f"the CSV export stopped: {error.code}")
        self.error = error


async def csv_stream(first: TransactionSlice, next_page: NextPage) -> AsyncIterator[bytes]:
    """The header and ``first``, then each following page until none is left.

    The 200 status is sent with the first page, so a later failure can only abort the
    response: a client then sees a broken transfer, never a file that looks complete.
    """
    yield (",".join(HEADER) + "\r\n" + csv_rows(first.items)).encode()
    after = first.next_after
    while after is not None:
        match await next_page(after):
            case Success(page):
                yield csv_rows(page.items).encode()
                after = page.next_after
            case Failure(error):
                raise ExportInterruptedError(error)


def csv_rows(items: Sequence[Transaction]) -> str:
    buffer = io.StringIO()
    # QUOTE_NONNUMERIC: text cells are quoted (a reader splitting on ";" or "|" keeps them
    # whole), the Decimal amount is not (it stays a number).
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    for item in items:
        writer.writerow(
            [
                item.posted_on.isoformat(),
                amount_cell(item.amount),
                item.currency,
                spreadsheet_safe(item.description),
                spreadsheet_safe(item.payee),
                spreadsheet_safe(item.memo),
                item.status.value,
                spreadsheet_safe(item.provider_transaction_id),
                spreadsheet_safe(item.check_number),
                spreadsheet_safe(item.reference),
            ]
        )
    return buffer.getvalue()
