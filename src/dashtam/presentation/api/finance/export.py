"""Transactions as CSV that no spreadsheet evaluates (OWASP CSV injection guidance).

Text cells are quoted, and every place where a spreadsheet could start a cell inside them --
the cell's start, or just after a separator a reader may split on (``,`` ``;`` tab ``|``, a
line break), spaces allowed -- gets a ``'`` before a formula trigger (``= + - @``, tab, CR).
Amounts are written as bare numbers: ``amount_text`` only ever produces an optional minus,
digits, a point and digits, which every spreadsheet reads as a number and none as a formula,
so ``-12.34`` stays usable in sums.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from decimal import Decimal

from dashtam.domain.transactions.entities import Transaction
from dashtam.presentation.api.finance.schemas import amount_text

HEADER = ("date", "amount", "currency", "description", "payee", "memo", "status", "id")
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


def transactions_csv(items: Sequence[Transaction]) -> str:
    buffer = io.StringIO()
    buffer.write(",".join(HEADER) + "\r\n")
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
            ]
        )
    return buffer.getvalue()
