"""Input rules shared by the routers: text that both database backends store alike."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

# PostgreSQL text cannot hold NUL (SQLite can): control characters are refused at the edge so
# that both backends answer the same 422 instead of one storing what the other cannot.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


def refuse_control_characters(value: object) -> object:
    """A validator: text with a C0 control character or DEL is not valid input."""
    if isinstance(value, str) and _CONTROL_CHARACTER.search(value):
        raise ValueError("must not contain control characters (U+0000 to U+001F, U+007F)")
    return value


# Runs first, so the message says what is wrong. The pattern is declared through the schema
# (a pydantic ``pattern`` next to a before-validator is dropped from the document) so that
# clients, and schemathesis, know the rule.
NoControlCharacters = BeforeValidator(refuse_control_characters)
NO_CONTROL_CHARACTERS_SCHEMA = {"pattern": NO_CONTROL_CHARACTERS}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def require_iso_date(value: object) -> object:
    """A validator: only ``YYYY-MM-DD`` (pydantic alone also takes ``0`` as a Unix time)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDate = BeforeValidator(require_iso_date)
PlainText = Annotated[
    str, NoControlCharacters, Field(json_schema_extra=NO_CONTROL_CHARACTERS_SCHEMA)
]
