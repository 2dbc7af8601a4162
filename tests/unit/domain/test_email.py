"""Email value object: parsing, canonical form, refusal of invalid input."""

from __future__ import annotations

import pytest

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Success
from dashtam.domain.users.value_objects import Email


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("user@example.com", "user@example.com"),
        ("User@Example.COM", "user@example.com"),
        ("  padded@example.com \n\t", "padded@example.com"),
        ("user+tag@example.com", "user+tag@example.com"),
        ("ÄNNE@Example.com", "änne@example.com"),
        ("user@bücher.example", "user@bücher.example"),
        ("user@BÜCHER.example", "user@bücher.example"),
        ("user@XN--BCHER-KVA.example", "user@bücher.example"),  # punycode decodes to Unicode
    ],
)
def test_parse_returns_the_canonical_form(raw: str, canonical: str) -> None:
    assert Email.parse(raw) == Success(Email(canonical))


def test_addresses_differing_only_in_case_are_equal() -> None:
    assert Email.parse("Mixed@Example.com") == Email.parse("mixed@EXAMPLE.COM")
    assert str(Email.parse("Mixed@Example.com").unwrap()) == "mixed@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-at-sign",
        "@example.com",
        "user@",
        "user@localhost",
        "user@example",
        "two words@example.com",
        "a..b@example.com",
        '"quoted"@example.com',
        "user@[127.0.0.1]",
        "user@example.test",  # special-use domain
        "user@" + "b" * 250 + ".com",  # longer than 254 characters
    ],
)
def test_invalid_input_is_a_validation_error_on_the_email_field(raw: str) -> None:
    result = Email.parse(raw)
    assert isinstance(result, Failure)
    assert isinstance(result.error, ValidationError)
    assert result.error.code == "validation_error"
    assert result.error.details == {"field": "email"}


def test_longest_valid_local_part_and_label_are_accepted() -> None:
    raw = "a" * 64 + "@" + "b" * 63 + ".com"
    assert Email.parse(raw) == Success(Email(raw))


def test_email_is_immutable() -> None:
    email = Email.parse("user@example.com").unwrap()
    with pytest.raises(AttributeError):
        email.value = "other@example.com"  # type: ignore[misc]
