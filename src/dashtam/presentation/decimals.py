"""Decimals as the API and the command line show them: exact, never in exponent notation."""

from __future__ import annotations

from decimal import Decimal


def amount_text(value: Decimal) -> str:
    """``-45.67`` for ``-45.6700``; at least two decimals, never exponent notation."""
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        normalized = normalized.quantize(Decimal("0.01"))
    return format(normalized, "f")


def quantity_text(value: Decimal) -> str:
    """Units and prices as stored, trailing zeros trimmed: ``0.5``, ``10``, ``0.0000000001``.

    Never exponent notation (``normalize()`` alone would turn 10 into ``1E+1``).
    """
    if value.is_zero():
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
