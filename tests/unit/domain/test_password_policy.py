"""Password policy: NIST SP 800-63B-4 lengths (15 alone, 8 with a second factor, up to 128)."""

from __future__ import annotations

import pytest

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Success
from dashtam.domain.users.value_objects import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH_WITH_SECOND_FACTOR,
    check_password_policy,
)


def test_bounds_are_fifteen_alone_eight_with_a_second_factor_and_128() -> None:
    assert (MIN_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH_WITH_SECOND_FACTOR) == (15, 8)
    assert MAX_PASSWORD_LENGTH == 128  # 800-63B-4 asks that at least 64 be accepted


@pytest.mark.parametrize(
    "password", ["a" * 15, "a" * 128, "correct horse b", "é" * 15, "lowercaseonlytoo"]
)
def test_lengths_within_bounds_pass(password: str) -> None:
    assert check_password_policy(password) == Success(None)


@pytest.mark.parametrize("password", ["a" * 8, "a" * 14, "é" * 8])
def test_a_second_factor_allows_eight_characters(password: str) -> None:
    assert check_password_policy(password, second_factor=True) == Success(None)
    assert isinstance(check_password_policy(password), Failure)


@pytest.mark.parametrize(
    ("password", "second_factor", "code", "minimum"),
    [
        ("", False, "password_too_short", 15),
        ("a" * 14, False, "password_too_short", 15),
        ("a" * 7, True, "password_too_short", 8),
        ("a" * 129, False, "password_too_long", None),
        ("a" * 10_000, True, "password_too_long", None),
    ],
)
def test_lengths_outside_bounds_fail_with_a_stable_code(
    password: str, second_factor: bool, code: str, minimum: int | None
) -> None:
    result = check_password_policy(password, second_factor=second_factor)
    assert isinstance(result, Failure)
    assert isinstance(result.error, ValidationError)
    assert result.error.code == code
    assert result.error.details["field"] == "password"
    if minimum is not None:
        # The error says which minimum applies, and why.
        assert result.error.details["min_length"] == minimum
        applies = "with_second_factor" if second_factor else "password_only"
        assert result.error.details["applies"] == applies
        assert str(minimum) in result.error.message
