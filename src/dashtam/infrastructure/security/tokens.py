"""JWT access tokens (HS256, algorithm pinned) and opaque refresh tokens stored as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from dashtam.core.errors import AuthenticationError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.protocols.tokens import AccessClaims

ALGORITHM = "HS256"
ISSUER = "dashtam"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "sid", "iss"]
# Tolerated clock skew between API processes.
_LEEWAY = timedelta(seconds=5)
# 9999-12-31T23:59:59Z less a day, so adding the leeway to it cannot overflow ``datetime``.
_MAX_TIMESTAMP = 253_402_300_799 - 86_400
_MAX_UUID_TEXT = 45
_VERIFIED_CACHE_SIZE = 10_000  # the longest spelling UUID() accepts: "urn:uuid:" + 36


class JwtTokenService:
    """The ``TokenService`` port. One secret signs access tokens and keys refresh-token hashes."""

    def __init__(
        self,
        *,
        secret_key: str,
        access_token_ttl: timedelta = ACCESS_TOKEN_TTL,
        refresh_token_ttl: timedelta = REFRESH_TOKEN_TTL,
    ) -> None:
        if not secret_key:
            raise ValueError("a secret key is required")
        self._secret = secret_key.encode()
        # Tokens whose signature and claims checked out, by their exact text: every request
        # presents one, and the HMAC, base64 and JSON work is the same each time. Expiry is
        # still checked against the clock on every use; revocation in the database.
        self._verified: dict[str, AccessClaims] = {}
        self._access_ttl = access_token_ttl
        self._refresh_ttl = refresh_token_ttl

    @property
    def access_token_ttl(self) -> timedelta:
        return self._access_ttl

    @property
    def refresh_token_ttl(self) -> timedelta:
        return self._refresh_ttl

    def issue_access_token(self, *, user_id: UUID, session_id: UUID, now: datetime) -> str:
        claims = {
            "iss": ISSUER,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": str(new_id()),
            "iat": int(now.timestamp()),
            "exp": int((now + self._access_ttl).timestamp()),
            "typ": "access",
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify_access_token(
        self, token: str, *, now: datetime
    ) -> Result[AccessClaims, AuthenticationError]:
        parsed = self._verified.get(token)
        if parsed is None:
            checked = self._verify_signature_and_claims(token)
            if isinstance(checked, Failure):
                return checked
            parsed = checked.value
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                self._verified.clear()  # a bound, not an LRU: clients refresh every 15 min
            self._verified[token] = parsed
        # Expiry checked against our clock (``now``), so tests and every process agree.
        if parsed.expires_at + _LEEWAY <= now:
            return Failure(
                AuthenticationError("the access token has expired", code="token_expired")
            )
        if parsed.issued_at - _LEEWAY > now:
            return Failure(_invalid("the access token is not valid yet"))
        return Success(parsed)

    def _verify_signature_and_claims(self, token: str) -> Result[AccessClaims, AuthenticationError]:
        """What does not depend on the time: the same string always gets the same answer."""
        try:
            # ``algorithms`` pins HS256: "none" and RS/HS confusion are refused by PyJWT.
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                leeway=_LEEWAY,
                options={"require": _REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": True},
            )
            parsed = _access_claims(claims)
        # PyJWT itself calls int() on "iat": JSON's Infinity/NaN reach it as floats.
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            return Failure(_invalid("the access token is invalid"))
        if parsed is None:
            return Failure(_invalid("the access token is invalid"))
        return Success(parsed)

    def new_refresh_token(self) -> str:
        return secrets.token_urlsafe(32)

    def hash_refresh_token(self, token: str) -> str:
        # Keyed hash: a stolen table of hashes cannot be checked offline without the secret.
        # "surrogatepass": a JSON body can carry lone surrogates; such a token matches
        # nothing (401) instead of failing to encode (500).
        data = token.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()


def _access_claims(claims: dict[str, Any]) -> AccessClaims | None:
    """The claims, each checked for type and range; ``None`` when any is wrong.

    A valid signature proves only who made the token, not that its values are sane: a
    string ``exp`` or an ``iat`` of 1e17 must be refused here, not crash ``fromtimestamp``.
    """
    if claims.get("typ") != "access":
        return None
    issued_at = _numeric_date(claims.get("iat"))
    expires_at = _numeric_date(claims.get("exp"))
    user_id = _uuid(claims.get("sub"))
    session_id = _uuid(claims.get("sid"))
    token_id = _uuid(claims.get("jti"))
    if (
        issued_at is None
        or expires_at is None
        or user_id is None
        or session_id is None
        or token_id is None
    ):
        return None
    return AccessClaims(
        user_id=user_id,
        session_id=session_id,
        token_id=token_id,
        issued_at=issued_at,
        expires_at=expires_at,
    )


def _numeric_date(value: object) -> datetime | None:
    """An RFC 7519 NumericDate (a JSON number of seconds) within the years 1970..9999."""
    # bool is an int subclass; a string would be JSON text, not a NumericDate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= _MAX_TIMESTAMP:  # also false for NaN
        return None
    return datetime.fromtimestamp(value, UTC)


def _uuid(value: object) -> UUID | None:
    if not isinstance(value, str) or len(value) > _MAX_UUID_TEXT:
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def _invalid(message: str) -> AuthenticationError:
    return AuthenticationError(message, code="invalid_token")
