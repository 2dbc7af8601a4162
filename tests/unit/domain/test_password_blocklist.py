"""PasswordPolicy: NIST SP 800-63B blocklist, context words and the shipped common-password list."""

from __future__ import annotations

import pytest

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Success
from dashtam.domain.users.password_policy import PasswordPolicy
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.security.common_passwords import (
    default_password_policy,
    load_common_passwords,
)

EMAIL = Email.parse("Jane.Doe@Example.com").unwrap()
GOOD = "purple elephants dance at noon"


def check(policy: PasswordPolicy, password: str, email: Email | None = None) -> object:
    """The rules other than length: from 8 characters (an account with a second factor)."""
    return policy.check(password, email=email, second_factor=True)


def code_of(result: object) -> str:
    assert isinstance(result, Failure), f"expected a Failure, got {result!r}"
    assert isinstance(result.error, ValidationError)
    assert result.error.details["field"] == "password"
    return result.error.code


@pytest.fixture(scope="module")
def policy() -> PasswordPolicy:
    return default_password_policy()


def test_the_shipped_list_has_at_least_ten_thousand_lower_case_entries() -> None:
    entries = load_common_passwords()
    assert len(entries) >= 10_000
    assert all(entry == entry.strip().lower() and entry for entry in entries)
    assert not any(entry.startswith("#") for entry in entries)  # the header is not an entry
    assert {"password", "123456", "qwerty123456"} <= entries


def test_a_good_passphrase_passes(policy: PasswordPolicy) -> None:
    assert check(policy, GOOD) == Success(None)
    assert check(policy, GOOD, EMAIL) == Success(None)


@pytest.mark.parametrize(
    ("password", "code"),
    [("x" * 7, "password_too_short"), ("ab" * 64 + "c", "password_too_long")],
)
def test_length_bounds_come_first(policy: PasswordPolicy, password: str, code: str) -> None:
    assert code_of(check(policy, password)) == code


@pytest.mark.parametrize(
    "password", ["qwerty123456", "QWERTY123456", "QwErTy123456", "  qwerty123456  ", "1qaz2wsx3edc"]
)
def test_common_passwords_are_refused_whatever_their_case(
    policy: PasswordPolicy, password: str
) -> None:
    assert code_of(check(policy, password)) == "password_too_common"


@pytest.mark.parametrize(
    "password",
    ["jane.doe@example.com", "JANE.DOE@EXAMPLE.COM", "jane.doe-forever", "Jane.Doe.2024!"],
)
def test_passwords_built_on_the_email_are_refused(policy: PasswordPolicy, password: str) -> None:
    assert code_of(check(policy, password, EMAIL)) == "password_contains_email"
    # Without knowing the email the same string is merely a password.
    assert check(policy, password) == Success(None)


def test_a_short_local_part_does_not_ban_every_password_starting_with_it(
    policy: PasswordPolicy,
) -> None:
    short = Email.parse("al@example.com").unwrap()
    assert check(policy, "always look on the bright side", short) == Success(None)
    assert code_of(check(policy, "al@example.com", short)) == "password_contains_email"


@pytest.mark.parametrize("password", ["dashtam12345", "DASHTAM-2025", "my-dashtam-1"])
def test_the_service_name_with_little_else_is_refused(
    policy: PasswordPolicy, password: str
) -> None:
    assert code_of(check(policy, password)) == "password_too_common"


def test_the_service_name_inside_a_long_passphrase_is_fine(policy: PasswordPolicy) -> None:
    assert check(policy, "i keep my dashtam data very safe") == Success(None)


def test_one_repeated_character_is_refused(policy: PasswordPolicy) -> None:
    assert code_of(check(policy, "a" * 20)) == "password_too_common"


def test_no_composition_rules(policy: PasswordPolicy) -> None:
    # All lower case, no digits, no symbols: fine by NIST 800-63B.
    assert check(policy, "correcthorsebatterystaple") == Success(None)


def test_with_blocklist_normalises_entries() -> None:
    policy = PasswordPolicy.with_blocklist(["  Hunter2Hunter2 ", "", "   ", "SecretSecret"])
    assert policy.common_passwords == frozenset({"hunter2hunter2", "secretsecret"})
    assert code_of(check(policy, "HUNTER2hunter2")) == "password_too_common"
    assert check(PasswordPolicy(), "hunter2hunter2") == Success(None)  # empty list: length only
