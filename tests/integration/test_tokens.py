"""JwtTokenService against real PyJWT: HS256 pinned, required claims, keyed refresh hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.infrastructure.security.tokens import (
    ACCESS_TOKEN_TTL,
    REFRESH_TOKEN_TTL,
    JwtTokenService,
)

SECRET = "integration-secret-" + "s" * 45
NOW = datetime(2025, 7, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def service() -> JwtTokenService:
    return JwtTokenService(secret_key=SECRET)


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": "dashtam",
        "sub": str(new_id()),
        "sid": str(new_id()),
        "jti": str(new_id()),
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=15)).timestamp()),
        "typ": "access",
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def code_of(result: object) -> str:
    assert isinstance(result, Failure), f"expected a Failure, got {result!r}"
    return str(result.error.code)


def b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_defaults_are_fifteen_minutes_and_thirty_days(service: JwtTokenService) -> None:
    assert (timedelta(minutes=15), timedelta(days=30)) == (ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL)
    assert (service.access_token_ttl, service.refresh_token_ttl) == (
        ACCESS_TOKEN_TTL,
        REFRESH_TOKEN_TTL,
    )


def test_round_trip(service: JwtTokenService) -> None:
    user_id, session_id = new_id(), new_id()
    token = service.issue_access_token(user_id=user_id, session_id=session_id, now=NOW)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    verified = service.verify_access_token(token, now=NOW + timedelta(minutes=14))
    assert isinstance(verified, Success)
    parsed = verified.value
    assert (parsed.user_id, parsed.session_id) == (user_id, session_id)
    assert (parsed.issued_at, parsed.expires_at) == (NOW, NOW + timedelta(minutes=15))
    other = service.issue_access_token(user_id=user_id, session_id=session_id, now=NOW)
    assert service.verify_access_token(other, now=NOW).unwrap().token_id != parsed.token_id


def test_expired(service: JwtTokenService) -> None:
    token = service.issue_access_token(user_id=new_id(), session_id=new_id(), now=NOW)
    assert code_of(service.verify_access_token(token, now=NOW + timedelta(minutes=16))) == (
        "token_expired"
    )


def test_issued_in_the_future_is_refused(service: JwtTokenService) -> None:
    token = service.issue_access_token(user_id=new_id(), session_id=new_id(), now=NOW)
    assert code_of(service.verify_access_token(token, now=NOW - timedelta(minutes=1))) == (
        "invalid_token"
    )


def test_tampered_signature(service: JwtTokenService) -> None:
    token = service.issue_access_token(user_id=new_id(), session_id=new_id(), now=NOW)
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert code_of(service.verify_access_token(f"{header}.{payload}.{flipped}", now=NOW)) == (
        "invalid_token"
    )


def test_tampered_claims_with_the_old_signature(service: JwtTokenService) -> None:
    token = service.issue_access_token(user_id=new_id(), session_id=new_id(), now=NOW)
    header, _, signature = token.split(".")
    forged = b64(claims())  # a different subject, signed by nobody
    assert code_of(service.verify_access_token(f"{header}.{forged}.{signature}", now=NOW)) == (
        "invalid_token"
    )


def test_wrong_secret(service: JwtTokenService) -> None:
    other = JwtTokenService(secret_key="another-secret-" + "o" * 49)
    token = other.issue_access_token(user_id=new_id(), session_id=new_id(), now=NOW)
    assert code_of(service.verify_access_token(token, now=NOW)) == "invalid_token"


def test_alg_none_is_refused(service: JwtTokenService) -> None:
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    assert code_of(service.verify_access_token(unsigned, now=NOW)) == "invalid_token"
    library_made = jwt.encode(claims(), None, algorithm="none")
    assert code_of(service.verify_access_token(library_made, now=NOW)) == "invalid_token"


@pytest.mark.parametrize("algorithm", ["HS512", "HS384"])
def test_another_hmac_algorithm_with_the_right_secret_is_refused(
    service: JwtTokenService, algorithm: str
) -> None:
    token = jwt.encode(claims(), SECRET, algorithm=algorithm)
    assert code_of(service.verify_access_token(token, now=NOW)) == "invalid_token"


def test_the_same_claims_signed_hs256_by_hand_verify(service: JwtTokenService) -> None:
    # Control for the tests around it: they fail for the reason they name, not another.
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert isinstance(service.verify_access_token(token, now=NOW), Success)


@pytest.mark.parametrize("missing", ["jti", "sub", "exp", "iat", "sid", "iss"])
def test_a_missing_required_claim_is_refused(service: JwtTokenService, missing: str) -> None:
    token = jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256")
    assert code_of(service.verify_access_token(token, now=NOW)) == "invalid_token"


@pytest.mark.parametrize(
    "overrides",
    [
        {"typ": "refresh"},
        {"typ": None},
        {"iss": "someone-else"},
        {"sub": "not-a-uuid"},
        {"sid": "12345"},
        {"jti": "x"},
        {"exp": "soon"},
    ],
    ids=["refresh-typ", "no-typ", "issuer", "sub", "sid", "jti", "exp-type"],
)
def test_malformed_claims_are_refused(service: JwtTokenService, overrides: dict[str, Any]) -> None:
    token = jwt.encode(claims(**overrides), SECRET, algorithm="HS256")
    assert code_of(service.verify_access_token(token, now=NOW)) == "invalid_token"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "é.é.é"])
def test_garbage_is_refused(service: JwtTokenService, garbage: str) -> None:
    assert code_of(service.verify_access_token(garbage, now=NOW)) == "invalid_token"


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        JwtTokenService(secret_key="")


def test_refresh_tokens_are_unique_and_unguessable(service: JwtTokenService) -> None:
    issued = {service.new_refresh_token() for _ in range(1000)}
    assert len(issued) == 1000
    assert all(len(token) >= 43 for token in issued)  # 32 random bytes, base64url


def test_refresh_token_hashes_are_keyed_by_the_secret(service: JwtTokenService) -> None:
    token = service.new_refresh_token()
    hashed = service.hash_refresh_token(token)
    assert hashed == service.hash_refresh_token(token)  # deterministic: looked up by hash
    assert len(hashed) == 64  # fits the column
    assert token not in hashed
    assert hashed != hashlib.sha256(token.encode()).hexdigest()  # not a bare digest
    other = JwtTokenService(secret_key="another-secret-" + "o" * 49)
    assert other.hash_refresh_token(token) != hashed
    assert service.hash_refresh_token(token + "x") != hashed


_VALID_EXP = int((NOW + timedelta(minutes=15)).timestamp())


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": 10**17},
        {"exp": -(10**17)},
        {"exp": 1e17},
        {"iat": -(10**17)},
        {"iat": -1e17},
        {"exp": str(_VALID_EXP)},  # a numeric string is JSON text, not a NumericDate
        {"iat": str(int(NOW.timestamp()))},
        {"exp": True},
        {"exp": [_VALID_EXP]},
        {"exp": {"at": _VALID_EXP}},
        {"exp": 253_402_300_800},  # the first second of year 10000
        {"sub": 42},
        {"sid": ["not", "a", "uuid"]},
        {"jti": "0" * 10_000},
        {"typ": ["access"]},
    ],
    ids=[
        "exp-huge",
        "exp-hugely-negative",
        "exp-huge-float",
        "iat-hugely-negative",
        "iat-hugely-negative-float",
        "exp-numeric-string",
        "iat-numeric-string",
        "exp-bool",
        "exp-list",
        "exp-object",
        "exp-past-year-9999",
        "sub-int",
        "sid-list",
        "jti-long",
        "typ-list",
    ],
)
def test_every_claim_is_type_and_range_checked(
    service: JwtTokenService, overrides: dict[str, Any]
) -> None:
    # Validly signed: only the claim checks stand between these values and a 500.
    token = jwt.encode(claims(**overrides), SECRET, algorithm="HS256")
    assert code_of(service.verify_access_token(token, now=NOW)) == "invalid_token"


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN"])
@pytest.mark.parametrize("claim", ["exp", "iat"])
def test_non_finite_numeric_dates_are_refused(
    service: JwtTokenService, claim: str, value: str
) -> None:
    # PyJWT's JSON parser accepts these literals, which no JSON encoder emits on purpose.
    header = b64({"alg": "HS256", "typ": "JWT"})
    payload = json.dumps(claims()).replace(f'"{claim}": ', f'"{claim}": {value}, "_{claim}": ')
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    signing_input = f"{header}.{body}".encode()
    signature = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    token = f"{header}.{body}." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    assert code_of(service.verify_access_token(token, now=NOW)) == "invalid_token"


def test_float_numeric_dates_within_range_are_accepted(service: JwtTokenService) -> None:
    # RFC 7519 allows non-integer NumericDates; being strict about type is not refusing them.
    token = jwt.encode(claims(exp=_VALID_EXP + 0.5), SECRET, algorithm="HS256")
    assert isinstance(service.verify_access_token(token, now=NOW), Success)


def test_a_refresh_token_with_lone_surrogates_hashes_instead_of_raising(
    service: JwtTokenService,
) -> None:
    hashed = service.hash_refresh_token("abc\ud800def")
    assert len(hashed) == 64
    assert hashed != service.hash_refresh_token("abc\ud801def")


def test_a_token_verified_before_still_expires_and_its_altered_copies_still_fail(
    service: JwtTokenService,
) -> None:
    token = service.issue_access_token(user_id=new_id(), session_id=new_id(), now=NOW)
    first = service.verify_access_token(token, now=NOW)
    assert isinstance(first, Success)
    # The second check of the same text reuses the first's work, not its verdict on time.
    assert service.verify_access_token(token, now=NOW + timedelta(minutes=5)) == first
    late = NOW + ACCESS_TOKEN_TTL + timedelta(minutes=1)
    assert code_of(service.verify_access_token(token, now=late)) == "token_expired"
    early = NOW - timedelta(minutes=1)
    assert code_of(service.verify_access_token(token, now=early)) == "invalid_token"
    head, body, signature = token.split(".")
    altered = ("B" if signature[0] == "A" else "A") + signature[1:]  # a whole 6 bits changed
    forged = f"{head}.{body}.{altered}"
    assert code_of(service.verify_access_token(forged, now=NOW)) == "invalid_token"
    # Another service (another secret) has not seen it and refuses it.
    other = JwtTokenService(secret_key="another-secret-" + "x" * 40)
    assert code_of(other.verify_access_token(token, now=NOW)) == "invalid_token"
