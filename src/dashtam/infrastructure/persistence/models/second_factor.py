"""Tables of the second factor: authenticators, recovery codes, pending MFA log-ins."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from dashtam.infrastructure.persistence.base import BaseModel, BaseMutableModel


class TotpFactorModel(BaseMutableModel):
    __tablename__ = "totp_factors"

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    # AES-256-GCM under DASHTAM_CREDENTIALS_KEY, bound to the user (never the plain secret).
    sealed_secret: Mapped[str] = mapped_column(Text, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    def to_entity(self) -> TotpFactor:
        return TotpFactor(
            id=self.id,
            user_id=self.user_id,
            sealed_secret=self.sealed_secret,
            confirmed_at=self.confirmed_at,
            last_used_step=self.last_used_step,
            created_at=self.created_at,
            updated_at=self.updated_at,
            version=self.version,
        )

    @classmethod
    def from_entity(cls, factor: TotpFactor) -> TotpFactorModel:
        return cls(
            id=factor.id,
            user_id=factor.user_id,
            sealed_secret=factor.sealed_secret,
            confirmed_at=factor.confirmed_at,
            last_used_step=factor.last_used_step,
            created_at=factor.created_at,
            updated_at=factor.updated_at,
            version=factor.version,
        )

    def apply(self, factor: TotpFactor) -> None:
        self.sealed_secret = factor.sealed_secret
        self.confirmed_at = factor.confirmed_at
        self.last_used_step = factor.last_used_step


class RecoveryCodeModel(BaseModel):
    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "selector"),)

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    selector: Mapped[str] = mapped_column(String(16), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def to_entity(self) -> RecoveryCode:
        return RecoveryCode(
            id=self.id,
            user_id=self.user_id,
            selector=self.selector,
            code_hash=self.code_hash,
            created_at=self.created_at,
            used_at=self.used_at,
        )

    @classmethod
    def from_entity(cls, code: RecoveryCode) -> RecoveryCodeModel:
        return cls(
            id=code.id,
            user_id=code.user_id,
            selector=code.selector,
            code_hash=code.code_hash,
            created_at=code.created_at,
            used_at=code.used_at,
        )


class MfaChallengeModel(BaseModel):
    __tablename__ = "mfa_challenges"
    __table_args__ = (Index("ix_mfa_challenges_user_id", "user_id"),)

    user_id: Mapped[UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    ticket_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    remember_me: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=false())
    password_change_recommended: Mapped[bool] = mapped_column(
        nullable=False, default=False, server_default=false()
    )
    failures: Mapped[int] = mapped_column(nullable=False, default=0, server_default="0")
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def to_entity(self) -> MfaChallenge:
        return MfaChallenge(
            id=self.id,
            user_id=self.user_id,
            ticket_hash=self.ticket_hash,
            expires_at=self.expires_at,
            remember_me=self.remember_me,
            password_change_recommended=self.password_change_recommended,
            failures=self.failures,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
            created_at=self.created_at,
            completed_at=self.completed_at,
        )

    @classmethod
    def from_entity(cls, challenge: MfaChallenge) -> MfaChallengeModel:
        return cls(
            id=challenge.id,
            user_id=challenge.user_id,
            ticket_hash=challenge.ticket_hash,
            expires_at=challenge.expires_at,
            remember_me=challenge.remember_me,
            password_change_recommended=challenge.password_change_recommended,
            failures=challenge.failures,
            ip_address=challenge.ip_address,
            user_agent=challenge.user_agent,
            created_at=challenge.created_at,
            completed_at=challenge.completed_at,
        )
