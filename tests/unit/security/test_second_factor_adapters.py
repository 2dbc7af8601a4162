"""The TOTP adapter against RFC 6238's published vectors, and the MFA secrets' formats."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import pytest

from dashtam.infrastructure.security.second_factor import PyotpTotp, RandomMfaSecrets

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII "12345678901234567890"; the published
# 8-digit values end in the 6-digit codes an authenticator app shows.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
]


FULLWIDTH_CODE = "\uff12\uff18\uff17\uff10\uff18\uff12"  # isdigit() is true for these


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("seconds", "eight_digits"), RFC_VECTORS)
def test_the_rfc_6238_vectors_match_at_their_own_step(seconds: int, eight_digits: str) -> None:
    totp = PyotpTotp()
    step = totp.matching_step(RFC_SECRET, eight_digits[-6:], now=at(seconds))
    assert step == seconds // 30


def test_one_step_of_drift_is_accepted_either_way_and_no_more() -> None:
    totp = PyotpTotp()
    code = "287082"  # step 1 (t = 30..59)
    assert totp.matching_step(RFC_SECRET, code, now=at(29)) == 1  # the client runs ahead
    assert totp.matching_step(RFC_SECRET, code, now=at(89)) == 1  # the client lags one step
    assert totp.matching_step(RFC_SECRET, code, now=at(90)) is None
    assert totp.matching_step(RFC_SECRET, code, now=at(119)) is None  # two steps later


@pytest.mark.parametrize(
    "typed",
    ["", "28708", "2870820", "28708a", FULLWIDTH_CODE, " 287082", "-87082"],
)
def test_anything_but_six_ascii_digits_is_refused(typed: str) -> None:
    assert PyotpTotp().matching_step(RFC_SECRET, typed, now=at(59)) is None


def test_a_new_secret_is_160_random_bits_and_its_uri_names_the_issuer() -> None:
    totp = PyotpTotp()
    first, second = totp.new_secret(), totp.new_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", first)
    assert first != second
    uri = totp.provisioning_uri(first, account="ada@example.com", issuer="Dashtam")
    assert uri.startswith("otpauth://totp/Dashtam:ada%40example.com?")
    assert f"secret={first}" in uri
    assert "issuer=Dashtam" in uri
    svg = totp.qr_code_svg(uri)
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")


def test_recovery_codes_are_sixteen_crockford_characters_with_a_selector() -> None:
    secrets = RandomMfaSecrets(secret_key="k" * 40)
    codes = [secrets.new_recovery_code() for _ in range(200)]
    for shown, selector, secret in codes:
        assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}", shown)
        assert shown.startswith(selector)
        assert secrets.parse_recovery_code(shown) == (selector, secret)
    assert len({shown for shown, _, _ in codes}) == 200


def test_a_typed_recovery_code_is_forgiven_case_spaces_dashes_and_look_alikes() -> None:
    secrets = RandomMfaSecrets(secret_key="k" * 40)
    assert secrets.parse_recovery_code("ab1c-0def-ghjk-mnpq") == ("ab1c", "0defghjkmnpq")
    assert secrets.parse_recovery_code(" AB1C 0DEF GHJK MNPQ ") == ("ab1c", "0defghjkmnpq")
    assert secrets.parse_recovery_code("abIc-odef-ghjk-mnpq") == ("ab1c", "0defghjkmnpq")
    for wrong in ("", "abcd", "ab1c-0def-ghjk-mnp", "ab1c-0def-ghjk-mnpqr", "ab1c-0def-ghjk-mnp!"):
        assert secrets.parse_recovery_code(wrong) is None


def test_ticket_digests_are_keyed_and_survive_any_text() -> None:
    one, other = RandomMfaSecrets(secret_key="a" * 40), RandomMfaSecrets(secret_key="b" * 40)
    ticket = one.new_ticket()
    assert len(ticket) >= 43  # 32 random bytes
    assert one.ticket_digest(ticket) == one.ticket_digest(ticket)
    assert one.ticket_digest(ticket) != other.ticket_digest(ticket)
    assert ticket not in one.ticket_digest(ticket)
    assert len(one.ticket_digest("\ud800 lone surrogate")) == 64
