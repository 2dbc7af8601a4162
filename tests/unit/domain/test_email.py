"""Email value object: parsing, canonical form, refusal of invalid input."""

# ruff: noqa: RUF001 - look-alike (fullwidth) characters are what these tests are about

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
        # NFKC + IDNA + case folding: compatibility look-alikes are one address.
        ("ａｄａ@example.com", "ada@example.com"),  # fullwidth local part
        ("ada@ｅｘａｍｐｌｅ.com", "ada@example.com"),  # fullwidth domain
        ("ada＠example.com", "ada@example.com"),  # fullwidth at-sign
        ("ada@example。com", "ada@example.com"),  # ideographic full stop
        ("\u3000ada@example.com\u3000", "ada@example.com"),  # ideographic spaces
        ("ﬁle@example.com", "file@example.com"),  # ligature
        ("Straße@example.com", "strasse@example.com"),  # full case folding, not lower()
        ("ΣΊΣΥΦΟΣ@example.com", "σίσυφοσ@example.com"),  # final sigma folds too
        ("Ǆ@example.com", "dž@example.com"),
        ("ꭰ@example.com", "ꭰ@example.com"),  # Cherokee: folded, then kept lower-case
        ("ada@straße.de", "ada@straße.de"),  # IDNA 2008 keeps ß: a different domain
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


@pytest.mark.parametrize(
    "raw",
    [
        "ada@example.com",
        "ÄNNE@Example.com",
        "Straße@example.com",
        "ＡＤＡ@ｅxample.com",
        "ꭰꮳ@example.com",
        "İstanbul@example.com",
        "ǅungla@example.com",
        "user@bücher.example",
    ],
)
def test_the_canonical_form_is_a_fixed_point(raw: str) -> None:
    # Stored emails are looked up by parsing what was typed: the stored form must parse to itself.
    canonical = Email.parse(raw).unwrap()
    assert Email.parse(canonical.value) == Success(canonical)


@pytest.mark.parametrize(
    "raw", ["ada\x00@example.com", "ada@exa\x00mple.com", "ada\t@example.com", "\ud800@example.com"]
)
def test_control_characters_and_lone_surrogates_are_refused(raw: str) -> None:
    result = Email.parse(raw)
    assert isinstance(result, Failure)
    assert result.error.details == {"field": "email"}


def test_folding_that_lengthens_past_the_limit_is_refused() -> None:
    # "İ" (2 octets in UTF-8) folds to "i" + U+0307 (3 octets); an address is at most 254.
    raw = "İ" * 100 + "@example.com"  # 212 octets; folded, 312
    folded = Email.parse("İ" * 10 + "@example.com").unwrap().value
    assert folded == "i\u0307" * 10 + "@example.com"
    result = Email.parse(raw)
    assert isinstance(result, Failure)
    assert result.error.details == {"field": "email"}
