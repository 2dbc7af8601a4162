"""DASHTAM_CREDENTIALS_KEY: spellings accepted, malformed keys refused, the derived default."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dashtam.bootstrap import Container
from dashtam.core.result import Success
from dashtam.infrastructure.security.credentials import AesGcmCredentialCipher
from dashtam.infrastructure.security.keys import AUDIT_MAC_LABEL, derive_key, key_id
from tests.unit.security.support import (
    CONTEXT,
    NEW_KEY,
    OLD_KEY,
    SECRET_URL,
    b64url,
    cipher,
    settings_with,
)


def _from(value: str | None, secret: str = "s" * 40) -> AesGcmCredentialCipher:
    return AesGcmCredentialCipher.from_settings(settings_with(value, secret))


@pytest.mark.parametrize(
    "spelling",
    [
        b64url(NEW_KEY),
        b64url(NEW_KEY) + "=",
        NEW_KEY.hex(),
        NEW_KEY.hex().upper(),
        base64.b64encode(NEW_KEY).decode(),  # `openssl rand -base64 32`
        f"  {b64url(NEW_KEY)}\n",
    ],
)
def test_a_key_is_accepted_as_base64_or_hex(spelling: str) -> None:
    configured = _from(spelling)
    assert configured.key_ids == (key_id(NEW_KEY),)
    sealed = cipher(NEW_KEY).seal(SECRET_URL, context=CONTEXT)
    assert configured.open(sealed, context=CONTEXT) == Success(SECRET_URL)


def test_several_keys_the_first_seals_and_all_open() -> None:
    configured = _from(f"{b64url(NEW_KEY)}, {OLD_KEY.hex()},")
    assert configured.key_ids == (key_id(NEW_KEY), key_id(OLD_KEY))
    assert configured.current_key_id == key_id(NEW_KEY)
    old = cipher(OLD_KEY).seal(SECRET_URL, context=CONTEXT)
    assert configured.open(old, context=CONTEXT) == Success(SECRET_URL)


@pytest.mark.parametrize(
    ("value", "position"),
    [
        (b64url(NEW_KEY[:31]), 1),  # 31 bytes
        (b64url(NEW_KEY + b"!"), 1),  # 33 bytes
        (NEW_KEY.hex()[:-2], 1),
        ("correct horse battery staple, a passphrase", 1),
        ("zz" * 32, 1),  # 64 characters, not hex
        (b64url(NEW_KEY)[:-1] + "*", 1),
        (f"{b64url(NEW_KEY)},{b64url(OLD_KEY)[:-4]}", 2),
    ],
)
def test_a_malformed_key_is_named_by_setting_and_position_never_quoted(
    value: str, position: int
) -> None:
    with pytest.raises(ValueError, match=r"^DASHTAM_CREDENTIALS_KEY: ") as raised:
        _from(value)
    message = str(raised.value)
    assert message.startswith(f"DASHTAM_CREDENTIALS_KEY: key {position} is not 32 bytes")
    assert "\n" not in message
    for part in value.split(","):
        assert part.strip()[:8] not in message
    assert raised.value.__cause__ is None


def test_without_the_setting_a_key_is_derived_from_the_secret_key() -> None:
    secret = "a production-like secret key of 40 chars!"
    expected = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"dashtam/credentials/aes-256-gcm/v1",
    ).derive(secret.encode())
    # Pinned: a changed label would make every stored credential unreadable.
    assert _from(None, secret).key_ids == (key_id(expected),)
    assert _from("  ", secret).key_ids == (key_id(expected),)
    assert _from(None, secret + "2").key_ids != (key_id(expected),)
    # Its own label: not the audit MAC key, nor anything else derived from the secret.
    assert key_id(expected) != key_id(derive_key(secret, AUDIT_MAC_LABEL))


def test_the_derived_key_is_the_same_in_another_process() -> None:
    secret = "another secret key, at least 32 characters"
    sealed = _from(None, secret).seal(SECRET_URL, context=CONTEXT)
    program = (
        "import sys\n"
        "from dashtam.infrastructure.security.credentials import AesGcmCredentialCipher\n"
        "from tests.unit.security.support import settings_with\n"
        "cipher = AesGcmCredentialCipher.from_settings(settings_with(None, sys.argv[1]))\n"
        "print(cipher.open(sys.stdin.read(), context=sys.argv[2]).unwrap(), end='')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, secret, CONTEXT],
        input=sealed,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=Path(__file__).parents[3],
    )
    assert (done.returncode, done.stdout) == (0, SECRET_URL), done.stderr


def test_the_container_builds_the_cipher_from_settings() -> None:
    container = Container(settings_with(f"{b64url(NEW_KEY)},{b64url(OLD_KEY)}"))
    assert container.credential_cipher is container.credential_cipher
    assert container.credential_cipher.current_key_id == key_id(NEW_KEY)
    with pytest.raises(ValueError, match="DASHTAM_CREDENTIALS_KEY"):
        _ = Container(settings_with("short")).credential_cipher


def test_the_word_derived_keeps_the_default_key_opening_while_moving_off_it() -> None:
    secret = "the secret key a deployment started with, 40+"
    started = _from(None, secret)
    sealed = started.seal(SECRET_URL, context=CONTEXT)
    moving = _from(f"{b64url(NEW_KEY)}, Derived", secret)
    assert moving.key_ids == (key_id(NEW_KEY), started.current_key_id)
    assert moving.needs_rotation(sealed)
    resealed = moving.reseal(sealed, context=CONTEXT)
    assert isinstance(resealed, Success)
    # After the reseal the word can go: the value opens under the new key alone.
    assert _from(b64url(NEW_KEY), secret).open(resealed.value, context=CONTEXT) == Success(
        SECRET_URL
    )
    assert _from(b64url(NEW_KEY), secret).open(sealed, context=CONTEXT) != Success(SECRET_URL)
