"""A CSV import's options (a preset name or a user's column mapping) made into a layout."""

from __future__ import annotations

from typing import Any

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.accounts.entities import AccountType
from dashtam.domain.money import parse_currency
from dashtam.infrastructure.importers.csv_holdings_presets import HOLDINGS_PRESETS
from dashtam.infrastructure.importers.csv_layout import CsvLayout, CsvPreset
from dashtam.infrastructure.importers.csv_presets import MAPPING_KEYS, PRESETS


def layout_from(
    preset: str | None, mapping: dict[str, Any] | None
) -> Result[CsvLayout | CsvPreset, ValidationError]:
    """The layout for a preset name or a user's mapping (unknown keys are refused)."""
    if preset:
        found = PRESETS.get(preset)
        if found is None:
            known = ", ".join(sorted([*PRESETS, *HOLDINGS_PRESETS]))
            return _refused(f"unknown CSV preset {quoted(preset)} (known presets: {known})")
        return Success(found)
    if not mapping:
        return _refused("a CSV import needs a preset or a mapping")
    problem = _shape_problem(mapping)
    if problem:
        return _refused(problem)
    return _values(mapping).map(lambda values: CsvLayout(**values))


def _shape_problem(mapping: dict[str, Any]) -> str | None:
    # Column names end up in error locations (and so in the audit trail); a tab delimiter is fine.
    if any(_has_control(str(v)) for k, v in mapping.items() if k != "delimiter"):
        return "mapping values must not contain control characters"
    unknown = set(mapping) - MAPPING_KEYS
    if unknown:
        return f"unknown mapping keys: {', '.join(sorted(unknown))}"
    if "date" not in mapping or "description" not in mapping:
        return "the mapping needs 'date' and 'description'"
    if "amount" not in mapping and not ("debit" in mapping or "credit" in mapping):
        return "the mapping needs 'amount' or 'debit'/'credit'"
    delimiter = mapping.get("delimiter")
    if delimiter is not None and len(str(delimiter)) != 1:
        return "'delimiter' must be one character"
    if mapping.get("decimal_separator") not in (None, ".", ","):
        return "'decimal_separator' must be '.' or ','"
    return None


def _values(mapping: dict[str, Any]) -> Result[dict[str, Any], ValidationError]:
    values: dict[str, Any] = {
        k: v for k, v in mapping.items() if k not in ("account_type", "negate", "currency")
    }
    if "currency" in mapping:
        match parse_currency(str(mapping["currency"])):
            case Failure(error):
                return Failure(error)
            case Success(code):
                values["currency"] = code
    if "account_type" in mapping:
        try:
            values["account_type"] = AccountType(str(mapping["account_type"]))
        except ValueError:
            return _refused(f"unknown account_type {quoted(mapping['account_type'])}")
    if "negate" in mapping:
        values["negate"] = str(mapping["negate"]).lower() in ("1", "true", "yes")
    return Success(values)


def _refused(message: str) -> Failure[ValidationError]:
    return Failure(ValidationError(message, code="invalid_mapping"))


def _has_control(text: str) -> bool:
    return any(ord(char) < 0x20 or char == "\x7f" for char in text)
