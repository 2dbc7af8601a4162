"""Bodies of the second-factor endpoints under /api/v1/users/me/mfa."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dashtam.application.auth.mfa_commands import FactorChanged, MfaStatus, TotpEnrolment
from dashtam.presentation.api.users.schemas import ABUSE_CAP, CURRENT_PASSWORD_BOUNDS

LOG_OUT_OTHERS = "/api/v1/sessions/others"


class EnrolTotpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(
        default=None,
        max_length=ABUSE_CAP,
        json_schema_extra=CURRENT_PASSWORD_BOUNDS,
        description="Required when the log-in is older than 15 minutes (re-authentication)",
    )


class TotpEnrolmentResponse(BaseModel):
    secret: str = Field(description="Base32; for apps that cannot scan the QR code")
    otpauth_uri: str
    qr_code_svg: str = Field(description="The otpauth URI as an SVG QR code")
    algorithm: Literal["SHA1"] = "SHA1"
    digits: Literal[6] = 6
    period: Literal[30] = 30

    @classmethod
    def of(cls, enrolment: TotpEnrolment) -> TotpEnrolmentResponse:
        return cls(
            secret=enrolment.secret,
            otpauth_uri=enrolment.otpauth_uri,
            qr_code_svg=enrolment.qr_code_svg,
        )


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=16, examples=["123456"])


class DisableTotpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=ABUSE_CAP, json_schema_extra=CURRENT_PASSWORD_BOUNDS)
    code: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_proof(self) -> DisableTotpRequest:
        if (self.code is None) == (self.recovery_code is None):
            raise ValueError("send either 'code' or 'recovery_code'")
        return self


class FactorChangedResponse(BaseModel):
    """After a change of factor: what to keep, and an offer to end the other sessions."""

    recovery_codes: list[str] = Field(
        description="Shown once: each works once in place of a code. Empty when none issued."
    )
    other_sessions: int = Field(description="My other active sessions")
    log_out_other_sessions: str = Field(
        default=LOG_OUT_OTHERS, description="DELETE this to end them (ASVS 5.0 7.4.3)"
    )

    @classmethod
    def of(cls, changed: FactorChanged) -> FactorChangedResponse:
        return cls(
            recovery_codes=list(changed.recovery_codes), other_sessions=changed.other_sessions
        )


class MfaStatusResponse(BaseModel):
    totp_enabled: bool
    totp_pending: bool = Field(description="Enrolled, waiting for its first code")
    enabled_at: datetime | None
    recovery_codes_left: int

    @classmethod
    def of(cls, status: MfaStatus) -> MfaStatusResponse:
        return cls(
            totp_enabled=status.totp_enabled,
            totp_pending=status.totp_pending,
            enabled_at=status.enabled_at,
            recovery_codes_left=status.recovery_codes_left,
        )
