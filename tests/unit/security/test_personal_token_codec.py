"""The personal token format (prefix, 32 random bytes, CRC32 checksum) and its keyed digest."""

from __future__ import annotations

import re
import zlib

import pytest

from dashtam.infrastructure.security.personal_tokens import (
    BASE62,
    TOKEN_LENGTH,
    HmacPersonalTokenCodec,
    base62,
    is_well_formed,
)

SECRET = "a-personal-token-test-secret-0123456789abcdef"
SHAPE = re.compile(r"dtm_pat_[0-9A-Za-z]{43}[0-9A-Za-z]{6}")


def from_base62(text: str) -> int:
    return sum(BASE62.index(char) * 62**power for power, char in enumerate(reversed(text)))


@pytest.fixture
def codec() -> HmacPersonalTokenCodec:
    return HmacPersonalTokenCodec(secret_key=SECRET)


def test_a_token_is_the_prefix_256_random_bits_and_a_crc32_checksum(
    codec: HmacPersonalTokenCodec,
) -> None:
    issued = codec.issue()

    assert SHAPE.fullmatch(issued.text), issued.text
    assert len(issued.text) == TOKEN_LENGTH == 57
    body, check = issued.text[8:51], issued.text[51:]
    assert from_base62(body) < 2**256
    assert from_base62(check) == zlib.crc32(body.encode())  # what a secret scanner computes
    assert issued.hint == issued.text[-4:]
    assert re.fullmatch(r"[0-9a-f]{64}", issued.digest)
    assert issued.text not in repr(issued)


def test_tokens_are_unique_and_their_digest_is_keyed(codec: HmacPersonalTokenCodec) -> None:
    issued = [codec.issue() for _ in range(200)]
    assert len({i.text for i in issued}) == 200
    first = issued[0]
    assert codec.digest(first.text) == first.digest
    other = HmacPersonalTokenCodec(secret_key=SECRET + "-rotated")
    assert other.digest(first.text) not in (None, first.digest)
    with pytest.raises(ValueError, match="secret key"):
        HmacPersonalTokenCodec(secret_key="")


def _mistyped(text: str) -> str:
    middle = 20
    return text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: "",
        lambda t: "dtm_pat_",
        lambda t: t[:-1],
        lambda t: t + "0",
        lambda t: "dtm_pax_" + t[8:],
        lambda t: t.upper(),
        _mistyped,
        lambda t: t[:30] + "é" + t[31:],
        lambda t: t[:30] + "-" + t[31:],
        lambda t: t[:30] + "\x00" + t[31:],
        lambda t: t * 1000,
    ],
    ids=[
        "empty",
        "prefix-only",
        "short",
        "long",
        "other-prefix",
        "upper-cased",
        "mistyped",
        "non-ascii",
        "punctuation",
        "nul",
        "very-long",
    ],
)
def test_anything_not_well_formed_has_no_digest(
    codec: HmacPersonalTokenCodec, spoil: object
) -> None:
    text = spoil(codec.issue().text)  # type: ignore[operator]
    assert not is_well_formed(text)
    assert codec.digest(text) is None


def test_base62_pads_and_refuses_what_does_not_fit() -> None:
    assert base62(0, 3) == "000"
    assert base62(61, 2) == "0z"
    assert base62(62, 2) == "10"
    assert from_base62(base62(2**256 - 1, 43)) == 2**256 - 1
    with pytest.raises(ValueError, match="do not fit"):
        base62(62**3, 3)
