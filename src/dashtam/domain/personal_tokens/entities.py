"""The personal access token aggregate, its scopes and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id

# Public, so that secret scanners recognise a leaked token (docs/security.md has the format).
PERSONAL_TOKEN_PREFIX = "dtm_pat_"  # noqa: S105 - a public prefix, not a secret
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS_PER_USER = 50
MIN_LIFETIME_DAYS = 1
MAX_LIFETIME_DAYS = 365
DEFAULT_LIFETIME_DAYS = 30


class TokenScope(StrEnum):
    """What a personal token may do; identity and administration are never among them."""

    READ = "read"  # read financial data (accounts, transactions, feed, holdings, exports)
    IMPORT = "import"  # upload statement files
    WRITE = "write"  # every other change of financial data (connections, sync, webhooks, ...)


@dataclass(slots=True, kw_only=True)
class PersonalAccessToken:
    """A token stored only as its keyed digest; ``token_hint`` is its last few characters."""

    user_id: UUID
    name: str
    token_hash: str = field(repr=False)
    token_hint: str
    scopes: frozenset[TokenScope]
    expires_at: datetime
    id: UUID = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    version: int = 1

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def revoke(self, reason: str, now: datetime) -> bool:
        """End the token now; False when it already was revoked (nothing changes)."""
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.revoked_reason = reason
        return True
