"""Common validation helpers shared by the domain (wrapping well-kept libraries)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success

MAX_EMAIL_LENGTH = 254


def normalize_email(raw: str) -> Result[str, ValidationError]:
    """Validate an address syntactically (no DNS) and return its canonical lower-case form."""
    candidate = raw.strip()
    if not candidate:
        return Failure(ValidationError("email is required", details={"field": "email"}))
    if len(candidate) > MAX_EMAIL_LENGTH:
        return Failure(ValidationError("email is too long", details={"field": "email"}))
    try:
        info = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        return Failure(ValidationError(f"invalid email: {exc}", details={"field": "email"}))
    # Mailbox names are case-insensitive in practice; one canonical form keeps uniqueness honest.
    return Success(info.normalized.lower())
