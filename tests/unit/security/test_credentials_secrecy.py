"""No plaintext, key or sealed text leaks through an error, a repr, an exception or a log line."""

from __future__ import annotations

import logging

import pytest
from structlog.testing import capture_logs

from dashtam.core.result import Failure
from dashtam.infrastructure.security.credentials import AesGcmCredentialCipher
from tests.unit.security.support import (
    CONTEXT,
    NEW_KEY,
    OLD_KEY,
    OTHER_KEY,
    SECRET_URL,
    b64url,
    cipher,
    key_spellings,
    settings_with,
)

SECRETS = [SECRET_URL, "user-7f3a", "pa55-9c1e"]


def _assert_clean(text: str, *, sealed: list[str]) -> None:
    for secret in SECRETS:
        assert secret not in text
    for key in (OLD_KEY, NEW_KEY, OTHER_KEY):
        for spelling in key_spellings(key):
            assert spelling not in text
    for value in sealed:
        assert value not in text
        assert value.split(".")[3] not in text  # the ciphertext alone


def test_failures_and_reprs_hold_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    rotating = cipher(NEW_KEY, OLD_KEY)
    sealed = rotating.seal(SECRET_URL, context=CONTEXT)
    foreign = cipher(OTHER_KEY).seal(SECRET_URL, context=CONTEXT)
    head, body = sealed.rsplit(".", 1)
    tampered = f"{head}.{'B' if body[0] == 'A' else 'A'}{body[1:]}"
    with caplog.at_level(logging.DEBUG), capture_logs() as structured:
        failures = [
            rotating.open(sealed, context="connection:another"),
            rotating.open(foreign, context=CONTEXT),
            rotating.open(tampered, context=CONTEXT),
            rotating.open(SECRET_URL, context=CONTEXT),
            rotating.reseal(foreign, context=CONTEXT),
        ]
    texts: list[str] = [repr(rotating), caplog.text, repr(structured)]
    for failure in failures:
        assert isinstance(failure, Failure)
        texts += [str(failure.error), repr(failure.error), repr(failure)]
    # The garbage case is the plaintext itself: it must not be echoed back either.
    _assert_clean("\n".join(texts), sealed=[sealed, foreign, tampered])


def test_a_malformed_setting_is_reported_without_the_other_keys() -> None:
    good = b64url(OLD_KEY)
    bad = b64url(NEW_KEY)[:-3]
    settings = settings_with(f"{good},{bad}")
    with pytest.raises(ValueError, match="DASHTAM_CREDENTIALS_KEY: key 2") as raised:
        AesGcmCredentialCipher.from_settings(settings)
    assert good not in str(raised.value)
    assert bad not in str(raised.value)
    assert good not in repr(settings)
    assert "DASHTAM_CREDENTIALS_KEY: key 2" in str(raised.value)


def test_the_settings_never_show_the_keys() -> None:
    settings = settings_with(b64url(NEW_KEY))
    _assert_clean(repr(settings) + str(settings) + str(settings.model_dump()), sealed=[])
