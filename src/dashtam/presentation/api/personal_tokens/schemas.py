"""Bodies of the personal access token endpoints. A token's text appears in one body only: the
answer to its creation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict, JsonValue

from dashtam.application.personal_tokens.commands import IssuedPersonalToken
from dashtam.domain.personal_tokens.entities import (
    DEFAULT_LIFETIME_DAYS,
    MAX_LIFETIME_DAYS,
    MAX_NAME_LENGTH,
    MIN_LIFETIME_DAYS,
    PERSONAL_TOKEN_PREFIX,
    PersonalAccessToken,
    TokenScope,
)

_SCOPE_NAMES: list[JsonValue] = [scope.value for scope in TokenScope]
# The rules are the handler's, which answers with stable codes (``token_name_too_long``,
# ``unknown_scope``, ``invalid_token_lifetime``, ...) and audits the attempt; the schema
# states them so that clients know them.
_NAME: JsonDict = {
    "minLength": 1,
    "maxLength": MAX_NAME_LENGTH,
    # No C0/C1 control character or DEL, and not only spaces.
    "pattern": r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
}
_SCOPES: JsonDict = {"minItems": 1, "items": {"type": "string", "enum": _SCOPE_NAMES}}
# Caps for abuse only, beyond the documented rules. A constraint also makes pydantic check that
# the text is Unicode at all: a lone surrogate (valid JSON) is refused here, never stored.
_NAME_CAP = 1000
_SCOPE_CAP = 32
_LIFETIME: JsonDict = {"minimum": MIN_LIFETIME_DAYS, "maximum": MAX_LIFETIME_DAYS}


class CreatePersonalTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=_NAME_CAP,
        description="What the token is for, to tell tokens apart",
        examples=["nightly export"],
        json_schema_extra=_NAME,
    )
    scopes: list[Annotated[str, Field(max_length=_SCOPE_CAP)]] = Field(
        max_length=10,
        description="`read`: read financial data; `import`: upload statement files; "
        "`write`: every other change of financial data",
        examples=[["read"]],
        json_schema_extra=_SCOPES,
    )
    # Strict: ``true`` or ``"30"`` would be guessed into a lifetime.
    expires_in_days: int = Field(
        default=DEFAULT_LIFETIME_DAYS,
        strict=True,
        description="Days until the token stops working (a token always expires)",
        json_schema_extra=_LIFETIME,
    )


class PersonalTokenResponse(BaseModel):
    id: UUID
    name: str
    scopes: list[str]
    hint: str = Field(
        description="The token's last characters, to recognise it (never the token)",
        examples=[f"{PERSONAL_TOKEN_PREFIX}...x7Qz"],
    )
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: PersonalAccessToken) -> PersonalTokenResponse:
        return cls(**_fields(token))


class CreatedPersonalTokenResponse(PersonalTokenResponse):
    token: str = Field(
        description="The token, for `Authorization: Bearer`. Shown this once: store it now.",
        examples=[f"{PERSONAL_TOKEN_PREFIX}0kM3..."],
    )

    @classmethod
    def created(cls, issued: IssuedPersonalToken) -> CreatedPersonalTokenResponse:
        return cls(**_fields(issued.token), token=issued.text)


class PersonalTokenPage(BaseModel):
    items: list[PersonalTokenResponse]
    next_cursor: str | None


def _fields(token: PersonalAccessToken) -> dict[str, object]:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": sorted(scope.value for scope in token.scopes),
        "hint": f"{PERSONAL_TOKEN_PREFIX}...{token.token_hint}",
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }
