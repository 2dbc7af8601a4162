"""What kind of export a file is, from its first bytes (its name and type are the user's)."""

from __future__ import annotations

import re
from typing import Literal

FileFormat = Literal["ofx", "csv"]
HEAD_BYTES = 4096

_LEADING = b"\xef\xbb\xbf\x00\t\r\n "
# OFX 1.x header keys come in any order; OFX 2.x declares itself in a processing instruction.
_OFX_HEADER = re.compile(rb"^\s*(OFXHEADER|DATA\s*:\s*OFXSGML)|<\?OFX\b|^<OFX\s*>", re.I | re.M)
# Office documents, archives, PDFs, images: nothing a text parser can read.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f]")


def sniff_format(head: bytes) -> FileFormat | None:
    """``ofx`` for OFX/QFX/QBO, ``csv`` for delimited text, None when neither fits."""
    text = head[:HEAD_BYTES].lstrip(_LEADING)
    if not text:
        return None
    if _OFX_HEADER.search(text) and (text[:1] != b"<" or _is_ofx_markup(text)):
        return "ofx"
    if text.startswith(b"<"):
        return None  # HTML or some other XML: neither kind
    if text.startswith(b"\xff\xfe") or text.startswith(b"\xfe\xff"):
        return "csv"  # UTF-16 text, as some spreadsheets save CSV
    if _BINARY.search(text.rstrip(b"\x00")):
        return None
    return "csv"


def _is_ofx_markup(text: bytes) -> bool:
    upper = text[:256].upper()
    return upper.startswith((b"<?XML", b"<?OFX", b"<OFX"))
