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


# NIST SP 800-63B-4 section 3.1.1.2: at least 15 characters for a password that is the only
# factor, at least 8 for one used with a second factor; at least 64 must be accepted.
MIN_PASSWORD_LENGTH = 15
MIN_PASSWORD_LENGTH_WITH_SECOND_FACTOR = 8
MAX_PASSWORD_LENGTH = 128


def minimum_password_length(*, second_factor: bool) -> int:
    return MIN_PASSWORD_LENGTH_WITH_SECOND_FACTOR if second_factor else MIN_PASSWORD_LENGTH


def check_password_policy(
    password: str, *, second_factor: bool = False
) -> Result[None, ValidationError]:
    """NIST SP 800-63B-4 length bounds; no composition rules."""
    minimum = minimum_password_length(second_factor=second_factor)
    if len(password) < minimum:
        why = (
            "with a second factor enabled"
            if second_factor
            else "while the password is the only factor (8 once a second factor is enabled)"
        )
        return Failure(
            ValidationError(
                f"password must be at least {minimum} characters {why}",
                code="password_too_short",
                details={
                    "field": "password",
                    "min_length": minimum,
                    "applies": "with_second_factor" if second_factor else "password_only",
                },
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return Failure(
            ValidationError(
                f"password must be at most {MAX_PASSWORD_LENGTH} characters",
                code="password_too_long",
                details={"field": "password", "max_length": MAX_PASSWORD_LENGTH},
            )
        )
    return Success(None)
