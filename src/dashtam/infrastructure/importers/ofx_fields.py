"""OFX element values: amounts, quantities, dates, free text, and stable transaction ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypeVar

from dashtam.core.result import Failure, Success
from dashtam.core.text import quoted
from dashtam.domain.investments.entities import QUANTITY_PLACES
from dashtam.domain.money import MAX_ABS_AMOUNT, parse_amount
from dashtam.infrastructure.importers.safety import check_date, clean_text, reject

_DATE = re.compile(
    r"^(?P<date>\d{8})(?P<time>\d{4}(\d{2})?)?(\.\d{1,6})?"
    r"\s*(\[\s*(?P<offset>[+-]?\d{1,2}(\.\d+)?)\s*(:[A-Za-z]*)?\s*\])?$"
)
MAX_ID_LENGTH = 255


class _Identified(Protocol):
    """A parsed transaction of either kind: a dataclass with the file's id."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def provider_transaction_id(self) -> str: ...


_Item = TypeVar("_Item", bound=_Identified)
# Units and prices: a point for decimals, commas for thousands (``1,250.5``); a lone comma
# is a decimal comma unless exactly three digits follow, the rule amounts follow too.
_QUANTITY = re.compile(r"^[+-]?((\d+|\d{1,3}(,\d{3})+)(\.\d*)?|\.\d+)$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(\d{1,2}|\d{4,})$")


def amount(text: str, location: str) -> Decimal:
    """``-1,234.50``, ``+3``, ``-12,50`` (a decimal comma), surrounding spaces."""
    match parse_amount(text):
        case Success(value):
            return value
        case Failure(error):
            reject(error.message, location=location, code="invalid_amount")
    raise AssertionError("unreachable")


def quantity(text: str, location: str) -> Decimal:
    """Units and unit prices: exact, up to ``QUANTITY_PLACES`` decimals (fund NAVs, crypto)."""
    cleaned = text.strip().replace(" ", "")
    if _DECIMAL_COMMA.match(cleaned):
        cleaned = cleaned.replace(",", ".")
    elif _QUANTITY.match(cleaned):
        cleaned = cleaned.replace(",", "")
    else:
        reject(f"{quoted(text.strip())} is not a number", location=location, code="invalid_amount")
    value = Decimal(cleaned)
    if value.as_tuple().exponent < -QUANTITY_PLACES:  # type: ignore[operator]
        reject(
            f"{quoted(text.strip())} has more than {QUANTITY_PLACES} decimal places",
            location=location,
            code="invalid_amount",
        )
    if abs(value) >= MAX_ABS_AMOUNT:
        reject(f"{quoted(text.strip())} is too large", location=location, code="invalid_amount")
    return value


def timestamp(text: str, location: str) -> datetime:
    """``YYYYMMDD[HHMM[SS[.XXX]]][[+-]offset[:TZ]]``; no offset means GMT."""
    match = _DATE.match(text.strip())
    if match is None:
        reject(f"{quoted(text)} is not an OFX date", location=location, code="invalid_date")
        raise AssertionError("unreachable")
    d = (match.group("date") + (match.group("time") or "")).ljust(14, "0")
    try:
        naive = datetime(
            int(d[:4]), int(d[4:6]), int(d[6:8]), int(d[8:10]), int(d[10:12]), int(d[12:])
        )
    except ValueError:
        reject(f"{quoted(text)} is not a valid date", location=location, code="invalid_date")
        raise AssertionError("unreachable") from None
    offset = match.group("offset")
    try:
        zone = timezone(timedelta(hours=float(offset))) if offset else UTC
    except ValueError:  # beyond +-24 hours
        reject(
            f"{quoted(text)} has an impossible time-zone offset",
            location=location,
            code="invalid_date",
        )
        raise AssertionError("unreachable") from None
    # Bounded here, the local date stays representable once stored in UTC (at most a day away).
    check_date(naive.date(), location=location, text=text)
    return naive.replace(tzinfo=zone)


def posting_date(text: str, location: str) -> date:
    # The day the bank wrote, never shifted to UTC: 23:59 in New York is the same day there.
    return timestamp(text, location).date()


class PostingDates:
    """``posting_date`` remembered by text: a statement repeats a few hundred dates at most,
    each written the same way, over thousands of transactions."""

    __slots__ = ("_read",)
    _LIMIT = 10_000  # a file that never repeats a date does not grow this without bound

    def __init__(self) -> None:
        self._read: dict[str, date] = {}

    def read(self, text: str, location: Callable[[], str]) -> date:
        known = self._read.get(text)
        if known is None:
            known = posting_date(text, location())
            if len(self._read) >= self._LIMIT:
                self._read.clear()
            self._read[text] = known
        return known


def free_text(value: str | None, limit: int) -> str | None:
    """Text for people to read: control characters dropped (see docs/importing.md)."""
    if not value:
        return None
    # Printable text has no control character to drop (most of it: skip the regex).
    cleaned = (value if value.isprintable() else clean_text(value)).strip()
    return cleaned[:limit] or None


def digest(*values: object) -> bytes:
    return hashlib.blake2b("\x1f".join(map(str, values)).encode(), digest_size=8).digest()


class Identities:
    """Stable ids within one statement, whatever the bank did with FITID.

    Same file, same ids: a reused FITID keeps the first transaction's id and gives each other
    content a suffix taken from that content; a missing FITID becomes a digest of the content
    and its occurrence among identical ones. Exact repeats (same FITID, same content) are
    the bank sending one transaction twice and are read once.
    """

    __slots__ = ("_first", "_others", "_unnamed")

    def __init__(self) -> None:
        # The FITIDs' 64-bit hashes, not the FITIDs: a small int a transaction whatever the
        # bank's id length (as likely to collide as an 8-byte digest, and no digest to make).
        self._first: dict[int, bytes] = {}
        self._others: set[tuple[int, bytes]] = set()
        self._unnamed: dict[bytes, int] = {}

    def assign(self, fitid: str | None, content: bytes) -> str | None:
        """The id for this transaction, or None when it repeats one already read."""
        if fitid is None:
            occurrence = self._unnamed.get(content, 0) + 1
            self._unnamed[content] = occurrence
            return f"ofx-{content.hex()}-{occurrence}"
        key = hash(fitid)
        first = self._first.get(key)
        if first is None:
            self._first[key] = content
            return fitid
        if first == content or (key, content) in self._others:
            return None
        self._others.add((key, content))
        suffix = f"~{content.hex()[:10]}"
        return fitid[: MAX_ID_LENGTH - len(suffix)] + suffix

    def keep(self, item: _Item, content: bytes) -> _Item | None:
        """The item under its stable id (a dataclass), or None when it repeats one read."""
        fitid = item.provider_transaction_id or None
        chosen = self.assign(fitid, content)
        if chosen is None or chosen == fitid:
            return None if chosen is None else item
        return replace(item, provider_transaction_id=chosen)
