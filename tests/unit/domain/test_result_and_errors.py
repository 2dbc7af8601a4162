"""Result pattern matching and unwrap; the error taxonomy's stable codes."""

from __future__ import annotations

import dataclasses

import pytest

from dashtam.core.errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    DomainError,
    Error,
    InfrastructureError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from dashtam.core.result import Failure, Result, Success, UnwrapError


def describe(result: Result[int, Error]) -> str:
    match result:
        case Success(value):
            return f"ok {value}"
        case Failure(error):
            return f"failed {error.code}"


def test_match_narrows_success_and_failure() -> None:
    assert describe(Success(3)) == "ok 3"
    assert describe(Failure(NotFoundError("gone"))) == "failed not_found"


def test_success_unwraps_and_maps() -> None:
    result = Success(2)
    assert result.is_success()
    assert not result.is_failure()
    assert result.unwrap() == 2
    assert result.map(lambda v: v * 10) == Success(20)


def test_failure_unwrap_raises_with_the_error_and_map_is_a_no_op() -> None:
    error = ConflictError("taken", code="email_taken")
    result: Failure[Error] = Failure(error)
    assert result.is_failure()
    assert not result.is_success()
    assert result.map(lambda v: v * 10) is result
    with pytest.raises(UnwrapError) as raised:
        result.unwrap()
    assert raised.value.error is error
    assert "email_taken" in str(raised.value)


@pytest.mark.parametrize(
    ("error_class", "code"),
    [
        (Error, "error"),
        (DomainError, "domain_error"),
        (ValidationError, "validation_error"),
        (NotFoundError, "not_found"),
        (ConflictError, "conflict"),
        (AuthenticationError, "authentication_failed"),
        (AuthorizationError, "forbidden"),
        (RateLimitedError, "rate_limited"),
        (InfrastructureError, "infrastructure_error"),
    ],
)
def test_default_codes_are_stable(error_class: type[Error], code: str) -> None:
    error = error_class("something happened")
    assert error.code == code
    assert str(error) == f"{code}: something happened"
    assert error.details == {}


def test_explicit_code_wins_over_the_default() -> None:
    assert ConflictError("x", code="stale_version").code == "stale_version"
    assert ValidationError("x", code="password_too_short").code == "password_too_short"


def test_taxonomy_and_extras() -> None:
    assert issubclass(ValidationError, DomainError)
    assert not issubclass(InfrastructureError, DomainError)
    assert RateLimitedError("slow down").retry_after_seconds == 60
    assert InfrastructureError("down").retryable is False


def test_errors_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        NotFoundError("gone").code = "other"  # type: ignore[misc]
