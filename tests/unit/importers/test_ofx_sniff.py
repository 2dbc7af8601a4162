"""Format sniffing from content, and the factory refusing a file of the other kind."""

from __future__ import annotations

import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.imports.statement import CsvOptions
from dashtam.infrastructure.importers.csv_file import CsvParser
from dashtam.infrastructure.importers.factory import StatementParsers
from dashtam.infrastructure.importers.ofx import OfxParser
from dashtam.infrastructure.importers.sniff import sniff_format
from tests.unit.importers.support import fixture

OFX_FILES = [
    "checking_ofx1_sgml.ofx",
    "creditcard_ofx2.ofx",
    "savings.qfx",
    "sgml_unclosed_aggregates.ofx",
    "webconnect.qbo",
    "latin1_one_line.qfx",
    "no_header.ofx",
    "mixed_bank_card_investment.ofx",
    "investments_only.qfx",
]
CSV_FILES = ["chase_checking.csv", "bank_of_america.csv", "european_semicolon.csv"]


@pytest.mark.parametrize("name", OFX_FILES)
def test_every_ofx_kind_is_recognised(name: str) -> None:
    assert sniff_format(fixture(name)) == "ofx"


@pytest.mark.parametrize("name", CSV_FILES)
def test_csv_exports_are_recognised(name: str) -> None:
    assert sniff_format(fixture(name)) == "csv"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xef\xbb\xbf\r\n\r\nOFXHEADER:100\r\nDATA:OFXSGML\r\n", "ofx"),
        (b"DATA:OFXSGML\nOFXHEADER:100\nVERSION:102\n\n<OFX>", "ofx"),  # keys in any order
        (b"\n\n  <OFX>\n<SIGNONMSGSRSV1>", "ofx"),
        (b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200" VERSION="220"?>\n<OFX>', "ofx"),
        (b"\xef\xbb\xbfDate,Description,Amount\n2024-01-02,Coffee,-3.50\n", "csv"),
        ("Buchungstag;Empfänger;Betrag\n".encode("cp1252"), "csv"),
        (b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', None),
        (b"<html><body><OFX>not really</OFX></body></html>", None),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x01", None),
        (b"PK\x03\x04\x14\x00\x06\x00", None),  # xlsx: a zip archive
        (b"", None),
        (b"\r\n \x00\x00", None),
    ],
    ids=[
        "bom-blank-lines",
        "header-order",
        "bare-sgml",
        "xml",
        "csv-bom",
        "csv-cp1252",
        "other-xml",
        "html",
        "pdf",
        "zip",
        "empty",
        "blank",
    ],
)
def test_sniff_heads(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


def test_an_ofx_connection_refuses_a_csv_file_and_says_what_to_do() -> None:
    result = StatementParsers().parser_for(
        "ofx-file", CsvOptions(), data=fixture("chase_checking.csv")
    )
    assert isinstance(result, Failure)
    assert result.error.code == "format_mismatch"
    assert "CSV export" in result.error.message
    assert "csv-file connection" in result.error.message


def test_a_csv_connection_refuses_an_ofx_file_and_says_what_to_do() -> None:
    result = StatementParsers().parser_for(
        "csv-file", CsvOptions(preset="chase-checking"), data=fixture("webconnect.qbo")
    )
    assert isinstance(result, Failure)
    assert result.error.code == "format_mismatch"
    assert "ofx-file connection" in result.error.message


@pytest.mark.parametrize(
    ("provider", "options", "name", "parser"),
    [
        ("ofx-file", CsvOptions(), "savings.qfx", OfxParser),
        ("csv-file", CsvOptions(preset="chase-checking"), "chase_checking.csv", CsvParser),
        # Unrecognised content is the parser's to refuse, with its own message.
        ("ofx-file", CsvOptions(), None, OfxParser),
    ],
)
def test_matching_or_unknown_content_gets_the_connections_parser(
    provider: str, options: CsvOptions, name: str | None, parser: type
) -> None:
    data = fixture(name) if name else b"%PDF-1.7\n\x00\x01"
    with_data = StatementParsers().parser_for(provider, options, data=data)
    without_data = StatementParsers().parser_for(provider, options)
    assert isinstance(with_data, Success)
    assert isinstance(with_data.value, parser)
    assert isinstance(without_data, Success)
    assert isinstance(without_data.value, parser)


def test_providers_without_file_imports_are_still_refused_with_data() -> None:
    result = StatementParsers().parser_for("manual", CsvOptions(), data=fixture("savings.qfx"))
    assert isinstance(result, Failure)
    assert result.error.code == "imports_not_supported"
