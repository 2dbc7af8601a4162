"""Personal access tokens: ``dtm_pat_`` + 32 random bytes + a checksum, stored as an HMAC.

The format (docs/security.md), like GitHub's tokens::

    dtm_pat_ <43 base62 characters: 32 random bytes> <6 base62 characters: CRC32 of those 43>

The prefix lets secret scanners find a leaked token; the checksum lets them tell a real one
from look-alike noise offline, and lets the API refuse a mistyped token before any database
work. The checksum is no secret and proves nothing: only the stored digest does.
"""

from __future__ import annotations

import secrets
import zlib

from dashtam.domain.personal_tokens.entities import PERSONAL_TOKEN_PREFIX
from dashtam.domain.protocols.personal_tokens import NewPersonalToken
from dashtam.infrastructure.security.keys import PERSONAL_TOKEN_LABEL, derive_key, keyed_digest

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
RANDOM_BYTES = 32
BODY_LENGTH = 43  # 62**43 > 2**256: every 32-byte value fits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
TOKEN_LENGTH = len(PERSONAL_TOKEN_PREFIX) + BODY_LENGTH + CHECKSUM_LENGTH
HINT_LENGTH = 4
_BASE62_CHARACTERS = frozenset(BASE62)


def base62(number: int, length: int) -> str:
    """``number`` in base 62, left-padded with ``0`` to ``length`` characters."""
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    if len(digits) > length:
        raise ValueError(f"{len(digits)} base62 digits do not fit in {length}")
    return "".join(reversed(digits)).rjust(length, BASE62[0])


def checksum(body: str) -> str:
    """The last six characters of a token: the CRC32 of its random part, in base 62."""
    return base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def is_well_formed(text: str) -> bool:
    """Prefix, length, alphabet and checksum, all checked without any key."""
    if len(text) != TOKEN_LENGTH or not text.startswith(PERSONAL_TOKEN_PREFIX):
        return False
    rest = text[len(PERSONAL_TOKEN_PREFIX) :]
    if not _BASE62_CHARACTERS.issuperset(rest):
        return False
    return checksum(rest[:BODY_LENGTH]) == rest[BODY_LENGTH:]


class HmacPersonalTokenCodec:
    """The ``PersonalTokenCodec`` port: HMAC-SHA256 under a key derived for this purpose only.

    Keyed, like refresh tokens: a copy of the table cannot be checked against guesses offline
    without the key (and 256 random bits leave nothing to guess anyway).
    """

    def __init__(self, *, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("a secret key is required")
        self._key = derive_key(secret_key, PERSONAL_TOKEN_LABEL)

    def issue(self) -> NewPersonalToken:
        body = base62(int.from_bytes(secrets.token_bytes(RANDOM_BYTES), "big"), BODY_LENGTH)
        text = PERSONAL_TOKEN_PREFIX + body + checksum(body)
        return NewPersonalToken(
            text=text, digest=keyed_digest(self._key, text), hint=text[-HINT_LENGTH:]
        )

    def digest(self, text: str) -> str | None:
        return keyed_digest(self._key, text) if is_well_formed(text) else None
