"""Password policy per NIST SP 800-63B-4: length bounds, a blocklist, no composition rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.users.value_objects import (
    MAX_PASSWORD_LENGTH,
    Email,
    check_password_policy,
)

# Context-specific words (800-63B 5.1.1.2): a password built on the service's name is weak.
_SERVICE_WORDS = ("dashtam",)


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Checks a candidate password; ``common_passwords`` holds lower-case entries."""

    common_passwords: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def with_blocklist(cls, entries: Iterable[str]) -> PasswordPolicy:
        return cls(frozenset(entry.strip().lower() for entry in entries if entry.strip()))

    def check(
        self, password: str, *, email: Email | None = None, second_factor: bool = False
    ) -> Result[None, ValidationError]:
        """``second_factor``: the account has one, so the shorter minimum applies."""
        length = check_password_policy(password, second_factor=second_factor)
        if isinstance(length, Failure):
            return length
        folded = password.strip().lower()
        if folded in self.common_passwords:
            return Failure(_rejected("password_too_common", "this password is too common"))
        if email is not None:
            local_part = email.value.split("@", 1)[0]
            if folded in (email.value, local_part) or (
                len(local_part) >= 4 and folded.startswith(local_part)
            ):
                return Failure(
                    _rejected("password_contains_email", "the password must not be your email")
                )
        if any(len(folded.replace(word, "")) < 8 for word in _SERVICE_WORDS if word in folded):
            return Failure(_rejected("password_too_common", "this password is too easy to guess"))
        if len(set(password)) == 1:
            return Failure(_rejected("password_too_common", "this password is too easy to guess"))
        return Success(None)


def _rejected(code: str, message: str) -> ValidationError:
    return ValidationError(message, code=code, details={"field": "password"})


__all__ = ["MAX_PASSWORD_LENGTH", "PasswordPolicy"]
