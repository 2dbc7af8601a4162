"""From bytes to CSV rows: the encoding, the line ends, the separator and the header row."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from dashtam.core.text import quoted
from dashtam.infrastructure.importers.csv_layout import CsvLayout, CsvPreset, column_key
from dashtam.infrastructure.importers.safety import decode_text, reject

HEADER_SEARCH_LINES = 30
_SEPARATORS = (",", ";", "\t", "|")


def decode(data: bytes) -> str:
    """UTF-16 when a byte-order mark says so; else strict UTF-8, then Windows-1252."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            reject("the file says it is UTF-16 but is not", code="invalid_csv")
    text = decode_text(data)
    # Old Mac exports end lines with CR alone; csv needs line feeds to find the rows.
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")
    return text


def lines(text: str, start: int = 0) -> Iterator[str]:
    """The lines of ``text`` from line index ``start`` (ends kept, as csv expects), no copy."""
    position = 0
    for _ in range(start):
        position = text.find("\n", position) + 1
        if position == 0:
            return
    while position < len(text):
        end = text.find("\n", position)
        if end == -1:
            yield text[position:]
            return
        yield text[position : end + 1]
        position = end + 1


def sniff(line: str) -> str:
    """The separator used most often outside quotes on ``line`` (``,`` when none is)."""
    counts = dict.fromkeys(_SEPARATORS, 0)
    in_quotes = False
    for char in line:
        if char == '"':
            in_quotes = not in_quotes
        elif not in_quotes and char in counts:
            counts[char] += 1
    best = max(_SEPARATORS, key=lambda separator: counts[separator])
    return best if counts[best] else ","


@dataclass(frozen=True, slots=True)
class Header:
    """Where the data starts and how to read it."""

    index: int  # 0-based line index of the header row; -1 for files without one
    delimiter: str
    layout: CsvLayout
    names: tuple[str, ...]


def find_header(text: str, preset: CsvPreset) -> Header:
    """The first line that names every column of one of the preset's layouts.

    Exports put account summaries and ``key;value`` lines above the header; those are passed
    over. A layout with fixed ``columns`` has no header: its data starts on the first line.
    """
    headerless = [layout for layout in preset.variants if layout.columns]
    if headerless:
        layout = headerless[0]
        first = next(lines(text), "")
        return Header(-1, layout.delimiter or sniff(first), layout, layout.columns)
    for index, line in enumerate(lines(text)):
        if index >= HEADER_SEARCH_LINES:
            break
        match = match_header(line.rstrip("\r\n"), preset.variants, preset.detect)
        if match is not None:
            delimiter, layout, names = match
            return Header(index, delimiter, layout, names)
    reject(_no_header_message(preset), code="invalid_csv")
    raise AssertionError("unreachable")


class HeaderLayout(Protocol):
    """What finding a header row needs of a layout (bank rows and positions alike)."""

    @property
    def delimiter(self) -> str | None: ...

    def required_columns(self) -> tuple[str, ...]: ...


Layout = TypeVar("Layout", bound=HeaderLayout)


def match_header(
    line: str,
    variants: Sequence[Layout],
    detect: Callable[[Sequence[str]], Layout | None] | None,
) -> tuple[str, Layout, tuple[str, ...]] | None:
    """The delimiter, layout and column names when ``line`` is the header of one of them."""
    for layout in variants:
        delimiter = layout.delimiter or sniff(line)
        names = _cells(line, delimiter)
        keys = {column_key(name) for name in names}
        if all(column_key(column) in keys for column in layout.required_columns()):
            return delimiter, layout, names
    if detect is not None:
        delimiter = sniff(line)
        names = _cells(line, delimiter)
        detected = detect(names)
        if detected is not None:
            return delimiter, detected, names
    return None


def _cells(line: str, delimiter: str) -> tuple[str, ...]:
    try:
        return tuple(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return ()


def _no_header_message(preset: CsvPreset) -> str:
    if not preset.variants:
        return (
            f"no header row in the first {HEADER_SEARCH_LINES} lines names a date, an amount "
            "and a description column"
        )
    wanted = " or ".join(
        ", ".join(quoted(name) for name in layout.required_columns()) for layout in preset.variants
    )
    return f"no header row with columns {wanted} in the first {HEADER_SEARCH_LINES} lines"
