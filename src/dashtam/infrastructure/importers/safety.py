"""Checks every uploaded file passes before a parser sees it."""

from __future__ import annotations

import re
from datetime import date

from dashtam.core.errors import ValidationError
from dashtam.core.text import quoted
from dashtam.domain.imports.statement import ImportLimits, import_error


class FileRejectedError(Exception):
    """Raised inside parsers; turned into a ``Failure`` at the parser boundary."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error.message)
        self.error = error


def reject(message: str, *, location: str | None = None, code: str = "invalid_file") -> None:
    raise FileRejectedError(import_error(message, location=location, code=code))


# OFX never needs a DTD or entities; their only use in an upload is an attack (XXE, billion
# laughs), so any declaration refuses the file before a parser sees it.
_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)


def check_size(data: bytes, limits: ImportLimits) -> None:
    if len(data) > limits.max_bytes:
        reject(f"the file is larger than {limits.max_bytes} bytes", code="file_too_large")
    if not data or data.isspace():  # data.strip() would copy a 20 MB upload to say this
        reject("the file is empty", code="empty_file")


def refuse_markup_declarations(data: bytes) -> None:
    match = _DECLARATIONS.search(data)
    if match:
        line = data.count(b"\n", 0, match.start()) + 1
        reject(
            "DOCTYPE and ENTITY declarations are not allowed",
            location=f"line {line}",
            code="unsafe_file",
        )


def decode_text(data: bytes, *, preferred: str | None = None) -> str:
    """Bank exports come as UTF-8 (with or without BOM) or a Windows code page."""
    for encoding in (preferred, "utf-8-sig", "cp1252"):
        if encoding is None:
            continue
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1")


# Files carry control characters (NUL above all) that PostgreSQL text cannot store and SQLite
# can: both backends must import a file alike, so they are dealt with here, per field.
_FREE_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f]")  # C0 but tab and newline
_IDENTIFIER_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
# No bank statement predates 1900 or lies centuries ahead; the bounds also keep a date plus
# any time-zone offset inside what datetime (and both databases) can represent.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def clean_text(value: str) -> str:
    """Free text (names, memos): C0 control characters removed, tab and newline kept."""
    return _FREE_TEXT_CONTROLS.sub("", value)


def check_identifier(value: str, *, location: str, field: str) -> str:
    """An identifier is matched exactly on every import, so it is refused, never altered."""
    if _IDENTIFIER_CONTROLS.search(value):
        reject(f"{field} contains a control character", location=location, code="invalid_file")
    return value


def check_date(value: date, *, location: str, text: str) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        reject(
            f"{quoted(text)} is outside {EARLIEST_DATE.year}-{LATEST_DATE.year}",
            location=location,
            code="invalid_date",
        )
    return value
