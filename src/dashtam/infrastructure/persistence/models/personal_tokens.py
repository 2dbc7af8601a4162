"""The table of personal access tokens (digests only, never a token)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.personal_tokens.entities import PersonalAccessToken, TokenScope
from dashtam.infrastructure.persistence.base import BaseMutableModel
from dashtam.infrastructure.persistence.types import JSONType

_KNOWN_SCOPES = frozenset(scope.value for scope in TokenScope)


class PersonalTokenModel(BaseMutableModel):
    __tablename__ = "personal_access_tokens"
    __table_args__ = (Index("ix_personal_access_tokens_user_id", "user_id"),)

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    token_hint: Mapped[str] = mapped_column(String(8), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def to_entity(self) -> PersonalAccessToken:
        return PersonalAccessToken(
            id=self.id,
            user_id=self.user_id,
            name=self.name,
            token_hash=self.token_hash,
            token_hint=self.token_hint,
            # A scope no longer offered grants nothing, rather than failing every use.
            scopes=frozenset(TokenScope(s) for s in self.scopes if s in _KNOWN_SCOPES),
            expires_at=self.expires_at,
            created_at=self.created_at,
            updated_at=self.updated_at,
            last_used_at=self.last_used_at,
            revoked_at=self.revoked_at,
            revoked_reason=self.revoked_reason,
            version=self.version,
        )

    @classmethod
    def from_entity(cls, token: PersonalAccessToken) -> PersonalTokenModel:
        return cls(
            id=token.id,
            user_id=token.user_id,
            name=token.name,
            token_hash=token.token_hash,
            token_hint=token.token_hint,
            scopes=sorted(scope.value for scope in token.scopes),
            expires_at=token.expires_at,
            created_at=token.created_at,
            updated_at=token.updated_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            revoked_reason=token.revoked_reason,
            version=token.version,
        )

    def apply(self, token: PersonalAccessToken) -> None:
        """What a use case may change: the revocation (a token is otherwise immutable)."""
        self.revoked_at = token.revoked_at
        self.revoked_reason = token.revoked_reason
