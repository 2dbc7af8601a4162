"""Numbers, dates and security identifiers as brokerages write them in positions exports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from dashtam.core.text import quoted
from dashtam.domain.investments.entities import QUANTITY_PLACES, SecurityId
from dashtam.domain.money import AMOUNT_SCALE, MAX_ABS_AMOUNT
from dashtam.infrastructure.importers.csv_values import clean_amount
from dashtam.infrastructure.importers.safety import check_identifier, reject

MONEY_PLACES = AMOUNT_SCALE
UNIT_PLACES = QUANTITY_PLACES
# Cells brokerages write for "no value": Schwab's "--" and "N/A", a lone dash.
_EMPTY = frozenset({"", "-", "--", "n/a", "na", "none"})


def is_blank(text: str) -> bool:
    return text.strip().casefold() in _EMPTY


def read_number(text: str, *, places: int, decimal_separator: str, where: str) -> Decimal | None:
    """The number in a cell (``$1,234.56``, ``(12.50)``, ``-$3``), None for an empty one."""
    raw = text.strip()
    if is_blank(raw):
        return None
    number = clean_amount(raw)
    negative = False
    if number.startswith("(") and number.endswith(")"):
        negative, number = True, number[1:-1]
    elif number.endswith("-"):
        negative, number = True, number[:-1]
    if number.startswith(("-", "+")) and not negative:
        negative, number = number[0] == "-", number[1:]
    thousands = "," if decimal_separator == "." else "."
    whole, _, fraction = number.partition(decimal_separator)
    grouped = re.fullmatch(rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+", whole)
    plain = re.fullmatch(r"\d*", whole) or grouped
    if not plain or not re.fullmatch(r"\d*", fraction) or not (whole or fraction):
        _not_a_number(raw, where)
    value = Decimal(whole.replace(thousands, "") + ("." + fraction if fraction else ""))
    if len(fraction) > places:
        reject(
            f"{quoted(raw)} has more than {places} decimal places",
            location=where,
            code="invalid_amount",
        )
    if abs(value) >= MAX_ABS_AMOUNT:
        reject(f"{quoted(raw)} is too large", location=where, code="invalid_amount")
    return -value if negative else value


def _not_a_number(raw: str, where: str) -> None:
    reject(f"{quoted(raw)} is not a number", location=where, code="invalid_amount")


# --- the date a file states --------------------------------------------------------------

# Fidelity's footer "Date downloaded 11/30/2026 10:15 AM ET"; Schwab's title line
# "Positions for account Individual ...123 as of 04:00 PM ET, 11/29/2026".
_STATED = re.compile(r"\b(?:date downloaded|downloaded on|as of)\b(.*)", re.IGNORECASE)
_ACCOUNT_LABEL = re.compile(r"positions for account\s+(.+?)\s+as of\b", re.IGNORECASE)
_MDY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_YMD = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})\b")
_NAMED = re.compile(r"\b([A-Za-z]{3})[a-z]*\.?[- ](\d{1,2}),?[- ](\d{4})\b")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\s*([AaPp])\.?\s*[Mm]\.?\s*(E[SD]?T|Eastern)?\b")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True, slots=True)
class Stated:
    """What a title or footer line says about the export."""

    as_of: datetime | None = None
    account_label: str | None = None


def stated(line: str) -> Stated:
    """The time a line says the positions are as of, and the account a title line names.

    A time in US Eastern time (``ET``) is kept; otherwise the day starts at midnight UTC, as
    for bank statements' balances.
    """
    label = _ACCOUNT_LABEL.search(line)
    account_label = label[1].strip().strip('"').strip() if label else None
    match = _STATED.search(line)
    day = _date(match[1]) if match else None
    if day is None:
        return Stated(None, account_label)
    return Stated(_instant(day, match[1] if match else ""), account_label)


def _date(text: str) -> date | None:
    found: list[tuple[int, int, int]] = []
    if match := _MDY.search(text):
        found.append((int(match[3]), int(match[1]), int(match[2])))
    if match := _YMD.search(text):
        found.append((int(match[1]), int(match[2]), int(match[3])))
    if (match := _NAMED.search(text)) and match[1].casefold() in _MONTHS:
        found.append((int(match[3]), _MONTHS.index(match[1].casefold()) + 1, int(match[2])))
    for year, month, day in found:
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def _instant(day: date, text: str) -> datetime:
    match = _TIME.search(text)
    if match is None or match[4] is None:
        return datetime.combine(day, time.min, tzinfo=UTC)
    hour = int(match[1]) % 12 + (12 if match[3].casefold() == "p" else 0)
    local = datetime.combine(day, time(min(hour, 23), min(int(match[2]), 59)))
    return (local - _eastern_offset(local)).replace(tzinfo=UTC)


def _eastern_offset(local: datetime) -> timedelta:
    """US Eastern time's offset from UTC (daylight time since 2007), without a tz database."""
    march = date(local.year, 3, 8)
    november = date(local.year, 11, 1)
    starts = datetime.combine(march + timedelta(days=(6 - march.weekday()) % 7), time(2))
    ends = datetime.combine(november + timedelta(days=(6 - november.weekday()) % 7), time(2))
    return timedelta(hours=-4 if starts <= local < ends else -5)


# --- securities ----------------------------------------------------------------------------

MAX_SYMBOL = 32
_CUSIP = re.compile(r"[0-9A-Z]{8}[0-9]")


def security_id(symbol: str, *, where: str) -> SecurityId:
    """A CUSIP (bonds and CDs are listed by theirs) or else the ticker, upper case."""
    text = " ".join(symbol.split()).upper()
    check_identifier(text, location=where, field="the symbol")
    if len(text) > MAX_SYMBOL:
        reject(f"the symbol is longer than {MAX_SYMBOL} characters", location=where)
    if _is_cusip(text):
        return SecurityId(text, "CUSIP")
    return SecurityId(text, "TICKER")


def _is_cusip(text: str) -> bool:
    """Nine characters with a valid check digit and at least one digit among the first eight."""
    if not _CUSIP.fullmatch(text) or not any(char.isdigit() for char in text[:8]):
        return False
    total = 0
    for position, char in enumerate(text[:8]):
        value = int(char) if char.isdigit() else ord(char) - ord("A") + 10
        if position % 2:
            value *= 2
        total += value // 10 + value % 10
    return (10 - total % 10) % 10 == int(text[8])
