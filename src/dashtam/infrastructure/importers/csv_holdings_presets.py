"""Positions exports of common brokerages, the ``generic-positions`` preset, and the mapping.

docs/importing-csv-presets.md ("Positions exports") describes them for users.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.money import parse_currency
from dashtam.infrastructure.importers.csv_holdings_layout import HoldingsLayout, HoldingsPreset
from dashtam.infrastructure.importers.csv_layout import column_key

_SCHWAB = HoldingsLayout(
    symbol="Symbol",
    description="Description",
    quantity="Qty (Quantity)",
    price="Price",
    value="Mkt Val (Market Value)",
    cost_basis="Cost Basis",
    kind="Security Type",
    delimiter=",",
)
_FIDELITY = HoldingsLayout(
    account="Account Number",
    account_name="Account Name",
    symbol="Symbol",
    description="Description",
    quantity="Quantity",
    price="Last Price",
    value="Current Value",
    cost_basis="Cost Basis Total",
    held_in="Type",
    delimiter=",",
    cash_symbol_suffix="**",
    option_symbol_prefix="-",
)


# Column names by role, preferred first (a market value beats a bare "Value").
_NAMES: dict[str, tuple[str, ...]] = {
    "symbol": ("symbol", "ticker", "symbol/cusip", "security symbol", "ticker symbol"),
    "quantity": ("quantity", "qty (quantity)", "qty", "shares", "units", "share quantity"),
    "value": (
        "market value",
        "mkt val (market value)",
        "current value",
        "total value",
        "value",
        "market value ($)",
    ),
    "price": (
        "price",
        "last price",
        "share price",
        "current price",
        "unit price",
        "market price",
        "closing price",
    ),
    "cost_basis": ("cost basis", "cost basis total", "total cost", "cost", "book value"),
    "description": (
        "description",
        "security description",
        "name",
        "security name",
        "investment name",
        "security",
    ),
    "account": ("account number", "account", "account id", "account no", "account no."),
    "account_name": ("account name",),
    "currency_column": ("currency", "ccy"),
    # Not a bare "Type": Fidelity's names the sub-account (Cash, Margin), not the security.
    "kind": ("security type", "asset type", "asset class", "investment type"),
}


def _detect(names: Sequence[str]) -> HoldingsLayout | None:
    """A layout for a header naming a symbol, a quantity and a price or market value."""
    by_key = {column_key(name): name for name in reversed(names)}
    found: dict[str, Any] = {}
    for role, candidates in _NAMES.items():
        taken = set(found.values())
        name = next((by_key[c] for c in candidates if c in by_key and by_key[c] not in taken), None)
        if name is not None:
            found[role] = name
    if "symbol" not in found or "quantity" not in found:
        return None
    if "price" not in found and "value" not in found:
        return None
    # No ticker has "**" in it or starts with "-": Fidelity's marks are safe to read anywhere.
    return HoldingsLayout(**found, cash_symbol_suffix="**", option_symbol_prefix="-")


HOLDINGS_PRESETS: dict[str, HoldingsPreset] = {
    "fidelity-positions": HoldingsPreset(
        (
            _FIDELITY,
            # Older exports put the account's name and number in one column.
            HoldingsLayout(
                account="Account Name/Number",
                symbol="Symbol",
                description="Description",
                quantity="Quantity",
                price="Last Price",
                value="Current Value",
                cost_basis="Cost Basis",
                held_in="Type",
                delimiter=",",
                cash_symbol_suffix="**",
                option_symbol_prefix="-",
            ),
        )
    ),
    "schwab-positions": HoldingsPreset(
        (
            _SCHWAB,
            HoldingsLayout(
                symbol="Symbol",
                description="Description",
                quantity="Quantity",
                price="Price",
                value="Market Value",
                cost_basis="Cost Basis",
                kind="Security Type",
                delimiter=",",
            ),
        )
    ),
    "vanguard-positions": HoldingsPreset(
        (
            HoldingsLayout(
                account="Account Number",
                symbol="Symbol",
                description="Investment Name",
                quantity="Shares",
                price="Share Price",
                value="Total Value",
                delimiter=",",
                ends_at_blank_line=True,
            ),
        )
    ),
    "generic-positions": HoldingsPreset((), detect=_detect),
}

# The keys of a positions mapping: column names, but for the last three.
HOLDINGS_MAPPING_KEYS = frozenset(
    {
        "symbol",
        "description",
        "quantity",
        "price",
        "value",
        "cost_basis",
        "account",
        "account_name",
        "currency",
        "type",
        "account_currency",
        "delimiter",
        "decimal_separator",
    }
)
# A mapping with any of these is a positions mapping (bank mappings have none of them).
_SELECTING_KEYS = frozenset({"symbol", "quantity"})


def is_holdings_request(preset: str | None, mapping: dict[str, Any] | None) -> bool:
    if preset:
        return preset in HOLDINGS_PRESETS
    return bool(mapping) and not _SELECTING_KEYS.isdisjoint(mapping or {})


def holdings_layout_from(
    preset: str | None, mapping: dict[str, Any] | None
) -> Result[HoldingsLayout | HoldingsPreset, ValidationError]:
    """The layout for a positions preset, or for a mapping whose keys are positions fields."""
    if preset:
        found = HOLDINGS_PRESETS.get(preset)
        if found is None:
            return _refused(f"unknown positions preset {quoted(preset)}")
        return Success(found)
    mapping = mapping or {}
    problem = _shape_problem(mapping)
    if problem:
        return _refused(problem)
    values: dict[str, Any] = {
        {"currency": "currency_column", "type": "kind"}.get(key, key): str(value)
        for key, value in mapping.items()
        if key != "account_currency"
    }
    if "account_currency" in mapping:
        match parse_currency(str(mapping["account_currency"])):
            case Failure(error):
                return Failure(error)
            case Success(code):
                values["currency"] = code
    return Success(HoldingsLayout(**values))


def _shape_problem(mapping: dict[str, Any]) -> str | None:
    # Column names end up in error locations (and so in the audit trail); a tab delimiter is fine.
    if any(_has_control(str(v)) for k, v in mapping.items() if k != "delimiter"):
        return "mapping values must not contain control characters"
    unknown = set(mapping) - HOLDINGS_MAPPING_KEYS
    if unknown:
        return f"unknown positions mapping keys: {', '.join(sorted(unknown))}"
    if "symbol" not in mapping or "quantity" not in mapping:
        return "a positions mapping needs 'symbol' and 'quantity'"
    if "price" not in mapping and "value" not in mapping:
        return "a positions mapping needs 'price' or 'value'"
    delimiter = mapping.get("delimiter")
    if delimiter is not None and len(str(delimiter)) != 1:
        return "'delimiter' must be one character"
    if mapping.get("decimal_separator", ".") not in (".", ","):
        return "'decimal_separator' must be '.' or ','"
    return None


def _refused(message: str) -> Failure[ValidationError]:
    return Failure(ValidationError(message, code="invalid_mapping"))


def _has_control(text: str) -> bool:
    return any(ord(char) < 0x20 or char == "\x7f" for char in text)
