"""Dates and amounts as bank exports write them.

A date like ``03/04/2026`` reads two ways. The whole file decides, never the row: every date
cell is surveyed first, and an order that any row contradicts (a day above 12 where the month
would be) is ruled out for all rows. Only when both orders fit every row does the layout's
preference choose (``day_first``; dates written with dots are always day first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from dashtam.core.result import Failure, Success
from dashtam.core.text import quoted
from dashtam.domain.money import common_amount, parse_amount
from dashtam.infrastructure.importers.csv_layout import DateOrder

# A date, optionally followed by a time ("2026-11-02 14:23:11", "02.11.2026T09:00Z").
_TIME = (
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_YEAR_FIRST = re.compile(r"(\d{4})([./-])(\d{1,2})\2(\d{1,2})" + _TIME)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})" + _TIME)
_YEAR_LAST = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_NAMED = re.compile(r"(\d{1,2})\.?[ -]([^\W\d_]{3,})\.?,?[ -](\d{4}|\d{2})" + _TIME)
_NAMED_US = re.compile(r"([^\W\d_]{3,})\.? (\d{1,2}),? (\d{4})" + _TIME)

# Month names in the languages of the supported exports, by their first three letters (and
# the few whose first three letters differ from English).
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "jän", "janv", "ene", "gen"),
            ("feb", "fév", "fev", "febr"),
            ("mar", "mär", "mrt", "mars", "maa"),
            ("apr", "avr", "abr"),
            ("may", "mai", "mei", "mag"),
            ("jun", "juin", "jui", "giu"),
            ("jul", "juil", "lug"),
            ("aug", "aoû", "aou", "ago"),
            ("sep", "sept", "set"),
            ("oct", "okt", "ott"),
            ("nov",),
            ("dec", "dez", "déc", "dic"),
        ),
        start=1,
    )
    for name in names
}


def _month(name: str) -> int | None:
    word = name.casefold()
    for length in (4, 3):
        number = _MONTHS.get(word[:length])
        if number is not None:
            return number
    return None


def _year(text: str) -> int:
    # Two-digit years as strptime's %y reads them: 69-99 are 19xx, 00-68 are 20xx.
    value = int(text)
    if len(text) == 2:
        return value + (1900 if value >= 69 else 2000)
    return value


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


# Exports hold many rows per day: each distinct date text is read once per order.
@lru_cache(maxsize=4096)
def read_date(text: str, order: DateOrder) -> date | None:
    """The date in ``text`` read in ``order`` (which matters only for ``a/b/year`` dates)."""
    value = text.strip()
    if match := _YEAR_FIRST.fullmatch(value) or _COMPACT.fullmatch(value):
        groups = [g for g in match.groups() if g not in ("-", "/", ".")]
        return _make(int(groups[0]), int(groups[1]), int(groups[2]))
    if match := _YEAR_LAST.fullmatch(value):
        first, second, year = int(match[1]), int(match[3]), _year(match[4])
        if order is DateOrder.DAY_FIRST:
            return _make(year, second, first)
        return _make(year, first, second)
    if match := _NAMED.fullmatch(value):
        month = _month(match[2])
        return _make(_year(match[3]), month, int(match[1])) if month else None
    if match := _NAMED_US.fullmatch(value):
        month = _month(match[1])
        return _make(int(match[3]), month, int(match[2])) if month else None
    return None


def date_orders(text: str) -> frozenset[DateOrder]:
    """The orders in which ``text`` is a real date (both, for a date that reads one way)."""
    return frozenset(order for order in DateOrder if read_date(text, order) is not None)


def read_date_with_format(text: str, fmt: str) -> date | None:
    try:
        return datetime.strptime(text.strip(), fmt).date()
    except ValueError:
        return None


def uses_dots(text: str) -> bool:
    match = _YEAR_LAST.fullmatch(text.strip())
    return match is not None and match[2] == "."


# --- amounts -------------------------------------------------------------------------------

# Currency symbols and codes written in amount cells ("-12,50 €", "EUR 12.50", "$1,234.56").
_CURRENCY_MARKS = re.compile(r"[$€£¥₹₩₽₺₪]|\b[A-Z]{3}\b|\bkr\b|\bFr\.?")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_UNICODE_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})


def clean_amount(text: str) -> str:
    """The number in an amount cell, without currency marks or spaces of any kind."""
    return _SPACES.sub("", _CURRENCY_MARKS.sub("", text.translate(_UNICODE_MINUS)))


def decimal_vote(text: str) -> str | None:
    """Which decimal separator ``text`` proves the file uses, if it proves one.

    ``1.234,56`` and ``12,5`` prove ``,``; ``1,234,567`` proves ``.``; ``1,234`` proves nothing.
    """
    number = clean_amount(text).strip("()+-")
    separators = [char for char in number if char in ".,"]
    if not separators:
        return None
    last = separators[-1]
    if len(set(separators)) == 2:
        return last
    if len(separators) > 1:  # the same mark several times can only group thousands
        return "." if last == "," else ","
    tail = number.rpartition(last)[2]
    return None if len(tail) == 3 else last


def read_amount(text: str, decimal_separator: str | None) -> tuple[Decimal | None, str]:
    """The amount in ``text`` and, when it is not one, why."""
    if decimal_separator != "," and (common := common_amount(text)) is not None:
        return common, ""  # nothing to clean, nothing grouped: what the general path gives
    cleaned = clean_amount(text)
    if decimal_separator and not _grouped_correctly(cleaned, decimal_separator):
        return None, (
            f"{quoted(text.strip())} is not an amount written with {quoted(decimal_separator)} "
            "as the decimal separator"
        )
    match parse_amount(cleaned, decimal_separator=decimal_separator):
        case Success(value):
            return value, ""
        case Failure(error):
            return None, error.message.replace(quoted(cleaned.strip()), quoted(text.strip()))
    raise AssertionError("unreachable")


def _grouped_correctly(cleaned: str, decimal_separator: str) -> bool:
    """``1.234,56`` with ``,`` decimals groups by thousands; ``1234.56`` with ``,`` does not.

    Without this check a dot-decimal number in a comma-decimal file would lose its point.
    """
    thousands = "." if decimal_separator == "," else ","
    whole = cleaned.strip("()+-").partition(decimal_separator)[0].rstrip("-")
    if thousands not in whole:
        return True
    return re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+", whole) is not None


@dataclass(slots=True)
class FileSurvey:
    """What the whole file says about its dates and amounts, gathered before any row is read."""

    orders: frozenset[DateOrder] = frozenset(DateOrder)
    dots: bool = False
    # The first line that ruled an order out, quoted in errors ("line 7 has 25/11/2026").
    decided_by: tuple[int, str] | None = None
    comma_votes: int = 0
    dot_votes: int = 0

    def see_date(self, line: int, text: str) -> None:
        fits = date_orders(text)
        if not fits or not fits & self.orders:
            return  # not a date, or contradicting the rows before: its row fails later
        if fits & self.orders != self.orders and self.decided_by is None:
            self.decided_by = (line, text.strip())
        self.orders &= fits
        self.dots = self.dots or uses_dots(text)

    def see_amount(self, text: str) -> None:
        vote = decimal_vote(text)
        if vote == ",":
            self.comma_votes += 1
        elif vote == ".":
            self.dot_votes += 1

    def date_order(self, *, day_first: bool) -> DateOrder:
        if len(self.orders) == 1:
            return next(iter(self.orders))
        return DateOrder.DAY_FIRST if day_first or self.dots else DateOrder.MONTH_FIRST

    def decimal_separator(self) -> str | None:
        """The file's decimal separator when its amounts agree; else each cell decides."""
        if self.comma_votes and not self.dot_votes:
            return ","
        if self.dot_votes and not self.comma_votes:
            return "."
        return None
