"""Value objects of the user aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.validation import normalize_email


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Email:
    """A syntactically valid address in canonical form (NFKC, IDNA domain, case-folded)."""

    value: str

    @classmethod
    def parse(cls, raw: str) -> Result[Email, ValidationError]:
        match normalize_email(raw):
            case Success(normalized):
                return Success(cls(normalized))
            case Failure(error):
                return Failure(error)

    def __str__(self) -> str:
        return self.value


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128


def check_password_policy(password: str) -> Result[None, ValidationError]:
    """NIST SP 800-63B length bounds; no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return Failure(
            ValidationError(
                f"password must be at least {MIN_PASSWORD_LENGTH} characters",
                code="password_too_short",
                details={"field": "password"},
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return Failure(
            ValidationError(
                f"password must be at most {MAX_PASSWORD_LENGTH} characters",
                code="password_too_long",
                details={"field": "password"},
            )
        )
    return Success(None)
