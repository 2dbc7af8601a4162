"""Chooses the parser for a connection's provider."""

from __future__ import annotations

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.imports.statement import CsvOptions, StatementParser
from dashtam.domain.providers.entities import ProviderSlug
from dashtam.infrastructure.importers.csv_file import CsvParser, layout_from
from dashtam.infrastructure.importers.ofx import OfxParser


class StatementParsers:
    """The ``ParserFactory`` port."""

    def parser_for(
        self, provider: str, options: CsvOptions
    ) -> Result[StatementParser, ValidationError]:
        if provider == ProviderSlug.OFX_FILE:
            return Success(OfxParser())
        if provider == ProviderSlug.CSV_FILE:
            match layout_from(options.preset, options.mapping):
                case Success(layout):
                    return Success(CsvParser(layout, account=options.account))
                case Failure(error):
                    return Failure(error)
        return Failure(
            ValidationError(
                f"provider {provider!r} does not take file imports", code="imports_not_supported"
            )
        )
