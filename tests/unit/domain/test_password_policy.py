"""Password policy: NIST length bounds 12..128, no composition rules."""

from __future__ import annotations

import pytest

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Success
from dashtam.domain.users.value_objects import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password_policy,
)


def test_bounds_are_twelve_and_one_hundred_twenty_eight() -> None:
    assert (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH) == (12, 128)


@pytest.mark.parametrize(
    "password", ["a" * 12, "a" * 128, "correct horse", "é" * 12, "lowercaseonly"]
)
def test_lengths_within_bounds_pass(password: str) -> None:
    assert check_password_policy(password) == Success(None)


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("", "password_too_short"),
        ("a" * 11, "password_too_short"),
        ("a" * 129, "password_too_long"),
        ("a" * 10_000, "password_too_long"),
    ],
)
def test_lengths_outside_bounds_fail_with_a_stable_code(password: str, code: str) -> None:
    result = check_password_policy(password)
    assert isinstance(result, Failure)
    assert isinstance(result.error, ValidationError)
    assert result.error.code == code
    assert result.error.details == {"field": "password"}
