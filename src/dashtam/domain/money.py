"""Money: exact ``Decimal`` amounts with an ISO 4217 currency; never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted

# Amounts are stored with 4 decimal places (enough for every ISO 4217 minor unit).
AMOUNT_SCALE = 4
# Every amount must fit both stores: SQLite keeps 1/10,000ths in a signed 64-bit integer
# (|x| < 922,337,203,685,477.5807) and PostgreSQL NUMERIC(20, 4) (|x| < 1e16). 1e14 is far
# above any real balance and leaves room below both, so no accepted amount can overflow either.
MAX_ABS_AMOUNT = Decimal("1e14")
_QUANTUM = Decimal(1).scaleb(-AMOUNT_SCALE)
# The largest amount accepted anywhere (files, query filters): MAX_ABS_AMOUNT less one unit.
MAX_AMOUNT = MAX_ABS_AMOUNT - _QUANTUM

# Active ISO 4217 codes (2024 list) plus the precious-metal and fund codes banks use.
ISO_4217 = frozenset(
    [
        "AED",
        "AFN",
        "ALL",
        "AMD",
        "ANG",
        "AOA",
        "ARS",
        "AUD",
        "AWG",
        "AZN",
        "BAM",
        "BBD",
        "BDT",
        "BGN",
        "BHD",
        "BIF",
        "BMD",
        "BND",
        "BOB",
        "BOV",
        "BRL",
        "BSD",
        "BTN",
        "BWP",
        "BYN",
        "BZD",
        "CAD",
        "CDF",
        "CHE",
        "CHF",
        "CHW",
        "CLF",
        "CLP",
        "CNY",
        "COP",
        "COU",
        "CRC",
        "CUC",
        "CUP",
        "CVE",
        "CZK",
        "DJF",
        "DKK",
        "DOP",
        "DZD",
        "EGP",
        "ERN",
        "ETB",
        "EUR",
        "FJD",
        "FKP",
        "GBP",
        "GEL",
        "GHS",
        "GIP",
        "GMD",
        "GNF",
        "GTQ",
        "GYD",
        "HKD",
        "HNL",
        "HTG",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "IQD",
        "IRR",
        "ISK",
        "JMD",
        "JOD",
        "JPY",
        "KES",
        "KGS",
        "KHR",
        "KMF",
        "KPW",
        "KRW",
        "KWD",
        "KYD",
        "KZT",
        "LAK",
        "LBP",
        "LKR",
        "LRD",
        "LSL",
        "LYD",
        "MAD",
        "MDL",
        "MGA",
        "MKD",
        "MMK",
        "MNT",
        "MOP",
        "MRU",
        "MUR",
        "MVR",
        "MWK",
        "MXN",
        "MXV",
        "MYR",
        "MZN",
        "NAD",
        "NGN",
        "NIO",
        "NOK",
        "NPR",
        "NZD",
        "OMR",
        "PAB",
        "PEN",
        "PGK",
        "PHP",
        "PKR",
        "PLN",
        "PYG",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "RWF",
        "SAR",
        "SBD",
        "SCR",
        "SDG",
        "SEK",
        "SGD",
        "SHP",
        "SLE",
        "SLL",
        "SOS",
        "SRD",
        "SSP",
        "STN",
        "SVC",
        "SYP",
        "SZL",
        "THB",
        "TJS",
        "TMT",
        "TND",
        "TOP",
        "TRY",
        "TTD",
        "TWD",
        "TZS",
        "UAH",
        "UGX",
        "USD",
        "USN",
        "UYI",
        "UYU",
        "UYW",
        "UZS",
        "VED",
        "VES",
        "VND",
        "VUV",
        "WST",
        "XAF",
        "XAG",
        "XAU",
        "XBA",
        "XBB",
        "XBC",
        "XBD",
        "XCD",
        "XCG",
        "XDR",
        "XOF",
        "XPD",
        "XPF",
        "XPT",
        "XSU",
        "XUA",
        "YER",
        "ZAR",
        "ZMW",
        "ZWG",
        "ZWL",
    ]
)

_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")  # the sign is taken off before
# An amount that needs no cleaning: a sign, at most 14 digits, at most AMOUNT_SCALE decimals.
_COMMON_AMOUNT = re.compile(rf"[+-]?[0-9]{{1,14}}(\.[0-9]{{1,{AMOUNT_SCALE}}})?\Z")


def parse_currency(raw: str) -> Result[str, ValidationError]:
    code = raw.strip().upper()
    if code not in ISO_4217:
        return Failure(
            ValidationError(f"unknown currency {quoted(raw.strip())}", code="invalid_currency")
        )
    return Success(code)


def common_amount(raw: str) -> Decimal | None:
    """The amount in what nearly every file holds (``-12.50``: a sign, digits, a point and at
    most four decimals, nothing around), read as ``parse_amount`` reads it; None for anything
    else, which ``parse_amount`` then reads or refuses."""
    if not _COMMON_AMOUNT.match(raw):
        return None
    value = Decimal(raw)
    return value if value else value.copy_abs()  # "-0" is 0, as parse_amount has it


def parse_amount(
    raw: str, *, decimal_separator: str | None = None
) -> Result[Decimal, ValidationError]:
    """Parse an amount as banks write it: ``-1,234.50``, ``1.234,50``, ``(12.00)``, ``+3``.

    With ``decimal_separator`` None the separator is inferred: the last of ``.``/``,`` when
    both appear; a lone ``,`` followed by exactly one or two digits is a decimal comma.
    """
    if decimal_separator != "," and (common := common_amount(raw)) is not None:
        return Success(common)
    text = raw.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    negative, signs = False, 0
    if text.startswith("(") and text.endswith(")"):
        negative, signs, text = True, signs + 1, text[1:-1]
    if text.endswith("-"):  # trailing minus, as some European exports write it
        negative, signs, text = True, signs + 1, text[:-1]
    if text.startswith(("-", "+")):
        negative, signs, text = text[0] == "-", signs + 1, text[1:]
    if not text or signs > 1:  # "--1", "(-1)", "-1-": which sign was meant is a guess
        return Failure(_invalid(raw))
    separator = decimal_separator or _infer_separator(text)
    thousands = "," if separator == "." else "."
    text = text.replace(thousands, "").replace(separator, ".")
    if not _PLAIN_NUMBER.match(text):
        return Failure(_invalid(raw))
    try:
        value = Decimal(text)
    except InvalidOperation:
        return Failure(_invalid(raw))
    if value.as_tuple().exponent < -AMOUNT_SCALE:  # type: ignore[operator]
        return Failure(
            ValidationError(
                f"amount {quoted(raw.strip())} has more than {AMOUNT_SCALE} decimal places",
                code="invalid_amount",
            )
        )
    if abs(value) >= MAX_ABS_AMOUNT:
        return Failure(
            ValidationError(f"amount {quoted(raw.strip())} is too large", code="invalid_amount")
        )
    return Success(-value if negative else value)


def _infer_separator(text: str) -> str:
    if "." in text and "," in text:
        return "." if text.rfind(".") > text.rfind(",") else ","
    if "," in text:
        _, _, tail = text.rpartition(",")
        return "," if len(tail) in (1, 2) and text.count(",") == 1 else "."
    return "."


def _invalid(raw: str) -> ValidationError:
    return ValidationError(f"{quoted(raw.strip())} is not an amount", code="invalid_amount")
