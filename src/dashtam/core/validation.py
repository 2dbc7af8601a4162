"""Common validation helpers shared by the domain (wrapping well-kept libraries)."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from dashtam.core.errors import ValidationError
from dashtam.core.result import Failure, Result, Success

MAX_EMAIL_LENGTH = 254


def normalize_email(raw: str) -> Result[str, ValidationError]:
    """Validate an address syntactically (no DNS) and return its one canonical form.

    Canonical: NFKC, then the domain as IDNA (UTS 46) maps it and the local part case-folded.
    email-validator's ``normalized`` alone is not enough: it applies only NFC to the local
    part and does not fold case there, so a fullwidth ``ADA@...`` and ``ada@...`` would be two
    accounts, and log-in throttling keyed on anything else could be sidestepped.
    """
    # NFKC first: fullwidth and other compatibility forms (even of "@") become their plain
    # letters before parsing, and an ideographic space becomes one that strip() removes.
    candidate = unicodedata.normalize("NFKC", raw).strip()
    if not candidate:
        return Failure(_invalid("email is required"))
    if len(candidate) > MAX_EMAIL_LENGTH:
        return Failure(_invalid("email is too long"))
    try:
        info = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        return Failure(_invalid(f"invalid email: {exc}"))
    # The domain is already UTS 46-mapped (case and width folded, Unicode form). Not
    # case-folded further: "straße.de" and "strasse.de" are different registrable domains.
    canonical = f"{fold_case(info.local_part)}@{info.domain}"
    if canonical != info.normalized:
        # Folding can lengthen ("ΐ" is three code points folded): the stored form must
        # itself be a valid address within the limits, or it could never be looked up.
        try:
            validate_email(canonical, check_deliverability=False)
        except EmailNotValidError as exc:
            return Failure(_invalid(f"invalid email: {exc}"))
    if len(canonical) > MAX_EMAIL_LENGTH:
        return Failure(_invalid("email is too long"))
    return Success(canonical)


def fold_case(text: str) -> str:
    """NFKC case folding (idempotent), so look-alikes compare equal.

    The final ``lower()`` matters: ``casefold()`` maps some scripts (Cherokee) to upper
    case, which the database's ``email = lower(email)`` CHECK would refuse.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).lower()


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, details={"field": "email"})
