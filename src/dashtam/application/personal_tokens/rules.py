"""Input rules of personal access tokens, checked before any transaction."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from dashtam.core.errors import Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.text import quoted
from dashtam.domain.personal_tokens.entities import (
    DEFAULT_LIFETIME_DAYS,
    MAX_LIFETIME_DAYS,
    MAX_NAME_LENGTH,
    MIN_LIFETIME_DAYS,
    TokenScope,
)

KNOWN_SCOPES = ", ".join(scope.value for scope in TokenScope)


def _invalid(message: str, code: str, field: str) -> Failure[Error]:
    return Failure(ValidationError(message, code=code, details={"field": field}))


def token_name(name: str) -> Result[str, Error]:
    """1 to 100 characters, not only spaces, no control characters; kept as given."""
    if len(name) > MAX_NAME_LENGTH:
        message = f"the name is longer than {MAX_NAME_LENGTH} characters"
        return _invalid(message, "token_name_too_long", "name")
    if not any(_is_not_space(char) for char in name):
        return _invalid("the name must not be empty", "token_name_required", "name")
    # C0, DEL and C1 (category Cc): PostgreSQL cannot store NUL, and none belongs in a name.
    if any(unicodedata.category(char) == "Cc" for char in name):
        message = "the name must not contain control characters"
        return _invalid(message, "token_name_invalid", "name")
    return Success(name)


def _is_not_space(char: str) -> bool:
    # U+FEFF too: JSON Schema's ``\s`` (the documented pattern) counts it as a space.
    return not char.isspace() and char != "\ufeff"


def token_scopes(requested: Sequence[str]) -> Result[frozenset[TokenScope], Error]:
    """At least one scope, each a known one (repeats are harmless)."""
    if not requested:
        message = f"scopes must name at least one scope ({KNOWN_SCOPES})"
        return _invalid(message, "scopes_required", "scopes")
    chosen: set[TokenScope] = set()
    for name in requested:
        try:
            chosen.add(TokenScope(name))
        except ValueError:
            message = f"unknown scope {quoted(name)} (known: {KNOWN_SCOPES})"
            return _invalid(message, "unknown_scope", "scopes")
    return Success(frozenset(chosen))


def lifetime_days(requested: int | None) -> Result[int, Error]:
    """Days until the token expires: 1 to 365, 30 when not given. A token always expires."""
    days = DEFAULT_LIFETIME_DAYS if requested is None else requested
    if not MIN_LIFETIME_DAYS <= days <= MAX_LIFETIME_DAYS:
        message = f"expires_in_days must be between {MIN_LIFETIME_DAYS} and {MAX_LIFETIME_DAYS}"
        return _invalid(message, "invalid_token_lifetime", "expires_in_days")
    return Success(days)
