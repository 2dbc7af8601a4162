"""Deterministic statements and the rows they hold, for imports and for seeding HTTP reads.

The OFX shape is bench/ofx_parse.py's (one checking account, one transaction per FITID); the
CSV is Chase's checking export (tests/fixtures/imports/chase_checking.csv), which the importer
recognises by its header. ``rows`` gives the same transactions as tuples for COPY.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from bench.ofx_parse import make_ofx

EMAIL = "bench@bench.example"
PASSWORD = "a benchmark passphrase that is long"
_CHASE_HEADER = "Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"


def _day(index: int) -> date:
    return date(2024, 1 + index % 12, 1 + index % 28)


def _amount(index: int) -> Decimal:
    return -Decimal(f"{index % 997}.{index % 100:02d}")


def _description(index: int) -> str:
    return f"MERCHANT NUMBER {index % 5000} WITH A LONG NAME"


def write_ofx(path: Path, transactions: int) -> Path:
    """An OFX 1.x (SGML) bank statement, as most banks still send."""
    path.write_bytes(make_ofx(transactions, sgml=True))
    return path


def write_csv(path: Path, transactions: int) -> Path:
    """A Chase checking export; each row unique by date, amount and description."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(_CHASE_HEADER)
        for index in range(transactions):
            day = _day(index)
            # Chase rows have no id: the reference in the description keeps them apart.
            out.write(
                f'DEBIT,{day:%m/%d/%Y},"{_description(index)} REF {index:08d}",'
                f"{_amount(index)},DEBIT_CARD,,,\n"
            )
    return path


def rows(transactions: int) -> list[tuple[str, Decimal, date, str, str | None]]:
    """(provider id, amount, posted on, description, memo) of the statement's transactions."""
    return [
        (f"2024{index:010d}", _amount(index), _day(index), _description(index), "POS PURCHASE")
        for index in range(transactions)
    ]
