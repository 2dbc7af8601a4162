"""HmacIdentifierDigest: keyed by a key derived for this purpose, stable, never the input."""

from __future__ import annotations

import hashlib

import pytest

from dashtam.infrastructure.security.identifiers import HmacIdentifierDigest
from dashtam.infrastructure.security.keys import (
    AUDIT_IDENTIFIER_LABEL,
    AUDIT_MAC_LABEL,
    derive_key,
    keyed_digest,
)

SECRET = "identifier-secret-" + "i" * 46


def test_the_digest_is_hmac_under_the_derived_identifier_key() -> None:
    digest = HmacIdentifierDigest(secret_key=SECRET)
    expected = keyed_digest(derive_key(SECRET, AUDIT_IDENTIFIER_LABEL), "typed")
    assert digest.digest("typed") == expected
    assert digest.digest("typed") != keyed_digest(derive_key(SECRET, AUDIT_MAC_LABEL), "typed")
    assert digest.digest("typed") != hashlib.sha256(b"typed").hexdigest()


def test_equal_inputs_match_and_other_secrets_do_not() -> None:
    digest = HmacIdentifierDigest(secret_key=SECRET)
    other = HmacIdentifierDigest(secret_key="another-secret-" + "o" * 49)
    assert digest.digest("a passphrase") == digest.digest("a passphrase")
    assert digest.digest("a passphrase") != digest.digest("a passphrase!")
    assert other.digest("a passphrase") != digest.digest("a passphrase")


def test_text_that_is_not_utf_8_encodable_is_digested_not_raised() -> None:
    digest = HmacIdentifierDigest(secret_key=SECRET)
    assert len(digest.digest("\ud800\x00")) == 64
    assert digest.digest("\ud800") != digest.digest("\ud801")


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        HmacIdentifierDigest(secret_key="")
