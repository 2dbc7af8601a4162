"""The shipped list of common passwords (loaded once, from package data)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from dashtam.domain.users.password_policy import PasswordPolicy


@lru_cache(maxsize=1)
def load_common_passwords() -> frozenset[str]:
    text = (
        resources.files("dashtam.infrastructure.security")
        .joinpath("data/common_passwords.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line and not line.startswith("#")
    )


def default_password_policy() -> PasswordPolicy:
    return PasswordPolicy(load_common_passwords())
