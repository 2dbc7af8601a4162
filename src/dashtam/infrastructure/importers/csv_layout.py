"""The shape of a CSV export: which column holds which field, and how values are written."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dashtam.domain.accounts.entities import AccountType


class DateOrder(StrEnum):
    """How a date written ``a/b/yyyy`` is read (year-first and month-name dates never vary)."""

    DAY_FIRST = "DMY"
    MONTH_FIRST = "MDY"


# Status values shared by every layout with a status column; a preset may add its own.
PENDING_VALUES = frozenset(
    {
        "pending",
        "vorgemerkt",
        "umsatz vorgemerkt",
        "en attente",
        "pendiente",
        "in behandeling",
        "in afwachting",
    }
)
DROPPED_VALUES = frozenset(
    {
        "declined",
        "reverted",
        "failed",
        "cancelled",
        "canceled",
        "rejected",
        "abgelehnt",
        "storniert",
        "annulé",
        "annule",
        "refusé",
        "rechazado",
        "rechazada",
        "cancelado",
        "cancelada",
        "geweigerd",
        "geannuleerd",
    }
)
# How a dropped row is reported in ``StatementPart.skipped`` ("declined rows": 2).
DROPPED_LABELS = {
    "canceled": "cancelled",
    "rejected": "declined",
    "abgelehnt": "declined",
    "storniert": "cancelled",
    "annulé": "cancelled",
    "annule": "cancelled",
    "refusé": "declined",
    "rechazado": "declined",
    "rechazada": "declined",
    "cancelado": "cancelled",
    "cancelada": "cancelled",
    "geweigerd": "declined",
    "geannuleerd": "cancelled",
}
# A direction column (ING's "Af Bij") says which way money moved; these mean money out.
OUTGOING_VALUES = frozenset({"af", "debit", "d", "dr", "soll", "s", "débit", "debe", "out"})
INCOMING_VALUES = frozenset({"bij", "credit", "c", "cr", "haben", "h", "crédit", "haber", "in"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CsvLayout:
    """Which header names hold which field. ``amount`` or ``debit``/``credit`` is required."""

    date: str
    description: str
    amount: str | None = None
    debit: str | None = None
    credit: str | None = None
    payee: str | None = None
    memo: str | None = None
    transaction_id: str | None = None
    status: str | None = None
    balance: str | None = None
    # Subtracted from the amount (Revolut lists its fee beside the amount, as a positive number).
    fee: str | None = None
    # A column whose value (``Af``/``Bij``) gives the sign of an always-positive amount.
    direction: str | None = None
    # Per-row currency; without it every row is in ``currency``.
    currency_column: str | None = None
    # Read in turn when the description cell is empty (a transfer with no partner name).
    description_fallbacks: tuple[str, ...] = ()
    date_format: str | None = None  # strptime format; None = recognise the file's date style
    date_order: DateOrder | None = None  # None = decided by the file's dates (see csv_values)
    # Used only when every date in the file reads both ways (no day above 12 anywhere).
    day_first: bool = False
    decimal_separator: str | None = None  # None = decided by the file's amounts
    delimiter: str | None = None  # None = sniff
    # Files without a header row: the names given to the columns, in order.
    columns: tuple[str, ...] = ()
    currency: str = "USD"
    account_type: AccountType = AccountType.CHECKING
    # Cards that export purchases as positive numbers: flip them so spending is negative.
    negate: bool = False
    pending_values: frozenset[str] = field(default_factory=lambda: PENDING_VALUES)
    dropped_values: frozenset[str] = field(default_factory=lambda: DROPPED_VALUES)

    def required_columns(self) -> tuple[str, ...]:
        """Every column the layout reads: a header row must name them all."""
        names = (
            self.date,
            self.description,
            self.amount,
            self.debit,
            self.credit,
            self.payee,
            self.memo,
            self.transaction_id,
            self.status,
            self.balance,
            self.fee,
            self.direction,
            self.currency_column,
        )
        return tuple(dict.fromkeys(name for name in names if name))


@dataclass(frozen=True, slots=True)
class CsvPreset:
    """A bank's layouts (banks change their exports: each variant is one header it wrote).

    ``detect`` builds a layout from a header row instead (the ``generic`` preset).
    """

    variants: tuple[CsvLayout, ...]
    detect: Callable[[Sequence[str]], CsvLayout | None] | None = None


def column_key(name: str) -> str:
    """Header names match ignoring case, quotes, a BOM and runs of spaces."""
    text = unicodedata.normalize("NFC", name).replace("\ufeff", "").strip().strip('"').strip()
    return " ".join(text.casefold().split())
