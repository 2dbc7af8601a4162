"""JWT access tokens (HS256, algorithm pinned) and opaque refresh tokens stored as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
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
            if claims.get("typ") != "access":
                return Failure(_invalid("not an access token"))
            issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
            parsed = AccessClaims(
                user_id=UUID(str(claims["sub"])),
                session_id=UUID(str(claims["sid"])),
                token_id=UUID(str(claims["jti"])),
                issued_at=issued_at,
                expires_at=expires_at,
            )
        except jwt.PyJWTError:
            return Failure(_invalid("the access token is invalid"))
        except (ValueError, TypeError, OverflowError):
            return Failure(_invalid("the access token is invalid"))
        # Expiry checked against our clock (``now``), so tests and every process agree.
        if parsed.expires_at + _LEEWAY <= now:
            return Failure(
                AuthenticationError("the access token has expired", code="token_expired")
            )
        if parsed.issued_at - _LEEWAY > now:
            return Failure(_invalid("the access token is not valid yet"))
        return Success(parsed)

    def new_refresh_token(self) -> str:
        return secrets.token_urlsafe(32)

    def hash_refresh_token(self, token: str) -> str:
        # Keyed hash: a stolen table of hashes cannot be checked offline without the secret.
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()


def _invalid(message: str) -> AuthenticationError:
    return AuthenticationError(message, code="invalid_token")
