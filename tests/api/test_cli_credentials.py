"""``dashtam credentials check``, and ``dashtam serve`` refusing a malformed credentials key."""

from __future__ import annotations

import base64

import pytest
from typer.testing import CliRunner, Result

from dashtam.infrastructure.security.credentials import CREDENTIALS_LABEL
from dashtam.infrastructure.security.keys import derive_key, key_id
from dashtam.presentation.cli.main import app

SECRET = "a secret key for the credentials CLI tests, 40+ chars"
NEW_KEY = bytes(range(64, 96))
OLD_KEY = bytes(range(160, 192))

pytestmark = pytest.mark.usefixtures("fresh_settings")


def _b64url(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


def _run(*args: str, credentials_key: str, log_level: str = "WARNING") -> Result:
    env = {
        "DASHTAM_ENV": "test",
        "DASHTAM_SECRET_KEY": SECRET,
        "DASHTAM_CREDENTIALS_KEY": credentials_key,
        "LOG_LEVEL": log_level,
    }
    return CliRunner().invoke(app, list(args), env=env)


def _assert_no_key_in(result: Result, *keys: bytes) -> None:
    output = result.stdout + result.stderr
    for key in keys:
        assert _b64url(key) not in output
        assert key.hex() not in output
    assert "Traceback" not in output


def test_check_with_the_derived_default_says_so() -> None:
    result = _run("credentials", "check", credentials_key="")
    assert result.exit_code == 0, result.output
    derived = derive_key(SECRET, CREDENTIALS_LABEL)
    assert result.stdout.splitlines() == [
        "credentials keys: valid (derived from DASHTAM_SECRET_KEY; "
        "set DASHTAM_CREDENTIALS_KEY in production)",
        f"sealing with key id {key_id(derived)}",
    ]
    _assert_no_key_in(result, derived)


def test_check_names_the_sealing_key_and_the_older_ones_by_id_only() -> None:
    configured = f"{_b64url(NEW_KEY)},{OLD_KEY.hex()}"
    result = _run("credentials", "check", credentials_key=configured, log_level="DEBUG")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "credentials keys: valid (2 key(s) from DASHTAM_CREDENTIALS_KEY)",
        f"sealing with key id {key_id(NEW_KEY)}",
        f"also opening key id(s) {key_id(OLD_KEY)}",
    ]
    _assert_no_key_in(result, NEW_KEY, OLD_KEY)


def test_check_fails_on_a_malformed_key_with_one_line_naming_the_setting() -> None:
    configured = f"{_b64url(NEW_KEY)},{_b64url(OLD_KEY)[:-2]}"
    result = _run("credentials", "check", credentials_key=configured)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: DASHTAM_CREDENTIALS_KEY: key 2 is not 32 bytes as base64url (43 characters) "
        "or hex (64)"
    ]
    _assert_no_key_in(result, NEW_KEY, OLD_KEY)
    assert _b64url(OLD_KEY)[:-2] not in result.stderr


def test_serve_refuses_to_start_with_a_malformed_key() -> None:
    result = _run("serve", "--port", "1", credentials_key="not-a-key")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: DASHTAM_CREDENTIALS_KEY: key 1 is not 32 bytes")
    assert "not-a-key" not in result.stdout + result.stderr


def test_check_is_listed_under_credentials() -> None:
    result = CliRunner().invoke(app, ["credentials", "--help"])
    assert result.exit_code == 0
    assert "check" in result.stdout
