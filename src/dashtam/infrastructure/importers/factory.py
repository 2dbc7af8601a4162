"""Chooses the parser for a connection's provider."""

from __future__ import annotations

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.imports.statement import CsvOptions, StatementParser
from dashtam.domain.providers.entities import ProviderSlug
from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.csv_holdings import HoldingsCsvParser
from dashtam.infrastructure.importers.csv_holdings_presets import (
    holdings_layout_from,
    is_holdings_request,
)
from dashtam.infrastructure.importers.ofx import OfxParser
from dashtam.infrastructure.importers.sniff import sniff_format

# What each file-import provider reads, and how a file of the other kind is explained.
_PROVIDER_FORMATS: dict[str, str] = {ProviderSlug.OFX_FILE: "ofx", ProviderSlug.CSV_FILE: "csv"}
_MISMATCH = {
    "csv": (
        "this file is a CSV export, but the connection takes OFX/QFX/QBO files: "
        "create a csv-file connection for it"
    ),
    "ofx": (
        "this file is an OFX/QFX/QBO statement, but the connection takes CSV files: "
        "create an ofx-file connection for it"
    ),
}


class StatementParsers:
    """The ``ParserFactory`` port."""

    def provider_for(self, data: bytes) -> str | None:
        found = sniff_format(data)
        return next((p for p, kind in _PROVIDER_FORMATS.items() if kind == found), None)

    def parser_for(
        self, provider: str, options: CsvOptions, *, data: bytes | None = None
    ) -> Result[StatementParser, ValidationError]:
        expected = _PROVIDER_FORMATS.get(provider)
        if expected is not None and data is not None:
            found = sniff_format(data)
            # An unrecognised file goes to the parser, whose refusal says what it expected.
            if found is not None and found != expected:
                return Failure(ValidationError(_MISMATCH[found], code="format_mismatch"))
        if provider == ProviderSlug.OFX_FILE:
            return Success(OfxParser())
        if provider == ProviderSlug.CSV_FILE and is_holdings_request(
            options.preset, options.mapping
        ):
            match holdings_layout_from(options.preset, options.mapping):
                case Success(holdings):
                    return Success(HoldingsCsvParser(holdings, account=options.account))
                case Failure(error):
                    return Failure(error)
        if provider == ProviderSlug.CSV_FILE:
            match layout_from(options.preset, options.mapping):
                case Success(layout):
                    return Success(CsvParser(layout, account=options.account))
                case Failure(error):
                    return Failure(error)
        return Failure(
            ValidationError(
                f"provider {quoted(provider)} does not take file imports",
                code="imports_not_supported",
            )
        )
