"""Refusals before any parser runs: markup declarations, size limits, empty uploads."""

from __future__ import annotations

from typing import Any

import pytest

from dashtam.domain.imports.statement import ImportLimits
from dashtam.infrastructure.importers import ofx
from dashtam.infrastructure.importers.csv_file import CsvParser
from dashtam.infrastructure.importers.csv_presets import PRESETS
from dashtam.infrastructure.importers.ofx import OfxParser
from dashtam.infrastructure.importers.safety import decode_text
from tests.unit.importers.support import LIMITS, bank_ofx, fixture, refused, stmttrn


class _TreeSpy:
    """Stands in for the OFX tokenizer: records that a parse was attempted."""

    calls = 0

    def __new__(cls, *args: object) -> _TreeSpy:
        cls.calls += 1
        raise AssertionError("the parser must never see this file")


@pytest.fixture
def tree_spy(monkeypatch: pytest.MonkeyPatch) -> type[_TreeSpy]:
    _TreeSpy.calls = 0
    monkeypatch.setattr(ofx, "events", _TreeSpy)
    return _TreeSpy


@pytest.mark.parametrize("name", ["xxe.ofx", "billion_laughs.ofx"])
def test_entity_attacks_are_refused_before_parsing(name: str, tree_spy: type[_TreeSpy]) -> None:
    error = refused(OfxParser().parse(fixture(name), limits=LIMITS), "unsafe_file")
    assert error.details["location"] == "line 2"
    assert "root:" not in error.message  # nothing of /etc/passwd
    assert tree_spy.calls == 0


@pytest.mark.parametrize(
    "declaration",
    [
        b'<!DOCTYPE OFX SYSTEM "http://evil.example/ofx.dtd">',
        b'<!doctype ofx [<!entity x "y">]>',
        b'<! ENTITY x SYSTEM "file:///etc/shadow">',
        b"<!ELEMENT OFX ANY>",
        b"<!ATTLIST OFX a CDATA #IMPLIED>",
    ],
)
def test_any_markup_declaration_anywhere_is_refused(
    declaration: bytes, tree_spy: type[_TreeSpy]
) -> None:
    good = bank_ofx(stmttrn())
    data = good.replace(b"<OFX>", b"\n\n" + declaration + b"\n<OFX>", 1)
    error = refused(OfxParser().parse(data, limits=LIMITS), "unsafe_file")
    assert error.details["location"] == "line 5"
    assert tree_spy.calls == 0


def test_the_real_parser_would_run_on_a_clean_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # The spy above proves nothing if the clean path never reaches the tokenizer: check it does.
    calls: list[object] = []
    real = ofx.events

    def counted(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(ofx, "events", counted)
    assert OfxParser().parse(bank_ofx(stmttrn()), limits=LIMITS).is_success()
    assert len(calls) == 1


def test_file_too_large_is_refused_for_both_parsers(tree_spy: type[_TreeSpy]) -> None:
    data = bank_ofx(stmttrn())
    limits = ImportLimits(max_bytes=len(data) - 1)
    error = refused(OfxParser().parse(data, limits=limits), "file_too_large")
    assert str(len(data) - 1) in error.message
    assert tree_spy.calls == 0
    csv_data = fixture("chase_checking.csv")
    refused(
        CsvParser(PRESETS["chase-checking"]).parse(
            csv_data, limits=ImportLimits(max_bytes=len(csv_data) - 1)
        ),
        "file_too_large",
    )


def test_a_file_exactly_at_the_limit_is_accepted() -> None:
    data = bank_ofx(stmttrn())
    result = OfxParser().parse(data, limits=ImportLimits(max_bytes=len(data)))
    assert result.is_success(), result


def test_size_is_checked_before_declarations() -> None:
    data = fixture("billion_laughs.ofx")
    refused(OfxParser().parse(data, limits=ImportLimits(max_bytes=10)), "file_too_large")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfDate,Amount", "Date,Amount"),
        ("Empfänger".encode(), "Empfänger"),
        ("Empfänger €".encode("cp1252"), "Empfänger €"),
        (b"\x81\x8d", "\x81\x8d"),  # undefined in cp1252: latin-1 keeps every byte
    ],
)
def test_decode_text(data: bytes, text: str) -> None:
    assert decode_text(data) == text
