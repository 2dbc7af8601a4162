"""Checks every uploaded file passes before a parser sees it."""

from __future__ import annotations

import re

from dashtam.core.errors import ValidationError
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
    if not data.strip():
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
