"""Tables of authentication: sessions, refresh tokens, log-in attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.infrastructure.persistence.base import BaseModel, BaseMutableModel


class AuthSessionModel(BaseMutableModel):
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remember_me: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=false())
    second_factor: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default=false()
    )

    def to_entity(self) -> AuthSession:
        return AuthSession(
            id=self.id,
            user_id=self.user_id,
            expires_at=self.expires_at,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            created_at=self.created_at,
            last_used_at=self.last_used_at,
            revoked_at=self.revoked_at,
            revoked_reason=self.revoked_reason,
            remember_me=self.remember_me,
            second_factor=self.second_factor,
            version=self.version,
        )

    @staticmethod
    def values_of(session: AuthSession) -> dict[str, Any]:
        """The row of ``session`` by column name, for a Core insert (a new session)."""
        return {
            "id": session.id,
            "user_id": session.user_id,
            "expires_at": session.expires_at,
            "ip_address": session.ip_address,
            "user_agent": session.user_agent,
            "created_at": session.created_at,
            "updated_at": session.created_at,
            "last_used_at": session.last_used_at,
            "revoked_at": session.revoked_at,
            "revoked_reason": session.revoked_reason,
            "remember_me": session.remember_me,
            "second_factor": session.second_factor,
            "version": session.version,
        }

    def apply(self, session: AuthSession) -> None:
        self.expires_at = session.expires_at
        self.last_used_at = session.last_used_at
        self.revoked_at = session.revoked_at
        self.revoked_reason = session.revoked_reason
        self.second_factor = session.second_factor


class RefreshTokenModel(BaseModel):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_session_id", "session_id"),)

    session_id: Mapped[UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), nullable=False
    )
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    rotated_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def to_entity(self) -> RefreshToken:
        return RefreshToken(
            id=self.id,
            session_id=self.session_id,
            token_hash=self.token_hash,
            expires_at=self.expires_at,
            created_at=self.created_at,
            rotated_at=self.rotated_at,
        )

    @staticmethod
    def values_of(token: RefreshToken) -> dict[str, Any]:
        """The row of ``token`` by column name, for a Core insert."""
        return {
            "id": token.id,
            "session_id": token.session_id,
            "token_hash": token.token_hash,
            "expires_at": token.expires_at,
            "created_at": token.created_at,
            "rotated_at": token.rotated_at,
        }


class LoginAttemptModel(BaseModel):
    """Throttling state lives here, in the database: it holds across processes and restarts."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_account", "account_key", "created_at"),
        Index("ix_login_attempts_ip", "ip_address", "created_at"),
    )

    account_key: Mapped[str] = mapped_column(String(64), nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    succeeded: Mapped[bool] = mapped_column(nullable=False)

    @staticmethod
    def values_of(attempt: LoginAttempt) -> dict[str, Any]:
        """The row of ``attempt`` by column name, for a Core insert."""
        return {
            "id": attempt.id,
            "account_key": attempt.account_key,
            "ip_address": attempt.ip_address,
            "succeeded": attempt.succeeded,
            "created_at": attempt.created_at,
        }
