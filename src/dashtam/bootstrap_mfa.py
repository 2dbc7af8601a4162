"""The composition root's second-factor and session-policy part.

A mixin of ``Container`` (its methods take the container as ``self``), like
``bootstrap_finance``: the log-in's second step, managing one's authenticator, the
administrator's reset, and the session policy every log-in and refresh applies.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dashtam.application.admin.handlers import ResetMfaHandler
    from dashtam.application.auth.mfa_enrolment import (
        ConfirmTotpHandler,
        EnrolTotpHandler,
        MfaStatusHandler,
        RegenerateRecoveryCodesHandler,
    )
    from dashtam.application.auth.mfa_login import CompleteMfaLoginHandler
    from dashtam.application.auth.mfa_removal import DisableTotpHandler
    from dashtam.application.auth.second_factor import RecoveryCodeCheck, TotpCheck
    from dashtam.application.auth.sessions import RevokeOtherSessionsHandler
    from dashtam.application.auth.timing import DummyPasswordCheck
    from dashtam.application.reads import ReadUnitOfWork
    from dashtam.application.unit_of_work import UnitOfWork
    from dashtam.core.config import Settings
    from dashtam.domain.auth.entities import SessionPolicy
    from dashtam.domain.protocols.credentials import CredentialCipher
    from dashtam.domain.protocols.logger import LoggerProtocol
    from dashtam.domain.protocols.password_hasher import PasswordHasher
    from dashtam.domain.protocols.second_factor import MfaSecrets, TotpAlgorithm
    from dashtam.domain.protocols.tokens import TokenService
    from dashtam.domain.users.password_policy import PasswordPolicy


class _Root(Protocol):
    """What these factories use of the container."""

    settings: Settings

    def logger(self, name: str = ...) -> LoggerProtocol: ...

    def unit_of_work(self) -> UnitOfWork: ...

    def read_unit_of_work(self) -> ReadUnitOfWork: ...

    @property
    def password_hasher(self) -> PasswordHasher: ...

    @property
    def password_policy(self) -> PasswordPolicy: ...

    @property
    def dummy_password_check(self) -> DummyPasswordCheck: ...

    @property
    def tokens(self) -> TokenService: ...

    @property
    def credential_cipher(self) -> CredentialCipher: ...


class SecondFactorWiring:
    @cached_property
    def session_policy(self: _Root) -> SessionPolicy:
        from dashtam.domain.auth.entities import SessionPolicy

        settings = self.settings
        return SessionPolicy(
            idle_timeout=timedelta(seconds=settings.session_idle_timeout_seconds),
            lifetime=timedelta(seconds=settings.session_lifetime_seconds),
            remember_me_idle_timeout=timedelta(
                seconds=settings.session_remember_me_idle_timeout_seconds
            ),
            remember_me_lifetime=timedelta(seconds=settings.session_remember_me_lifetime_seconds),
        )

    @cached_property
    def mfa_secrets(self: _Root) -> MfaSecrets:
        from dashtam.infrastructure.security.second_factor import RandomMfaSecrets

        return RandomMfaSecrets(secret_key=self.settings.secret_key.get_secret_value())

    @cached_property
    def totp_algorithm(self: _Root) -> TotpAlgorithm:
        from dashtam.infrastructure.security.second_factor import PyotpTotp

        return PyotpTotp()

    def totp_check(self: _MfaRoot) -> TotpCheck:
        from dashtam.application.auth.second_factor import TotpCheck

        return TotpCheck(totp=self.totp_algorithm, cipher=self.credential_cipher)

    def recovery_code_check(self: _MfaRoot) -> RecoveryCodeCheck:
        from dashtam.application.auth.second_factor import RecoveryCodeCheck

        return RecoveryCodeCheck(
            secrets=self.mfa_secrets,
            hasher=self.password_hasher,
            dummy_check=self.dummy_password_check,
        )

    def complete_mfa_login_handler(self: _MfaRoot) -> CompleteMfaLoginHandler:
        from dashtam.application.auth.mfa_login import CompleteMfaLoginHandler

        return CompleteMfaLoginHandler(
            uow_factory=self.unit_of_work,
            tokens=self.tokens,
            totp=self.totp_check(),
            mfa_secrets=self.mfa_secrets,
            recovery_codes=self.recovery_code_check(),
            logger=self.logger("dashtam.auth"),
            session_policy=self.session_policy,
        )

    def enrol_totp_handler(self: _MfaRoot) -> EnrolTotpHandler:
        from dashtam.application.auth.mfa_enrolment import EnrolTotpHandler

        return EnrolTotpHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            totp=self.totp_algorithm,
            cipher=self.credential_cipher,
            logger=self.logger("dashtam.auth"),
        )

    def confirm_totp_handler(self: _MfaRoot) -> ConfirmTotpHandler:
        from dashtam.application.auth.mfa_enrolment import ConfirmTotpHandler

        return ConfirmTotpHandler(
            uow_factory=self.unit_of_work,
            totp=self.totp_check(),
            recovery_codes=self.recovery_code_check(),
            logger=self.logger("dashtam.auth"),
        )

    def regenerate_recovery_codes_handler(self: _MfaRoot) -> RegenerateRecoveryCodesHandler:
        from dashtam.application.auth.mfa_enrolment import RegenerateRecoveryCodesHandler

        return RegenerateRecoveryCodesHandler(
            uow_factory=self.unit_of_work,
            totp=self.totp_check(),
            recovery_codes=self.recovery_code_check(),
            logger=self.logger("dashtam.auth"),
        )

    def disable_totp_handler(self: _MfaRoot) -> DisableTotpHandler:
        from dashtam.application.auth.mfa_removal import DisableTotpHandler

        return DisableTotpHandler(
            uow_factory=self.unit_of_work,
            hasher=self.password_hasher,
            policy=self.password_policy,
            totp=self.totp_check(),
            recovery_codes=self.recovery_code_check(),
            mfa_secrets=self.mfa_secrets,
            logger=self.logger("dashtam.auth"),
        )

    def mfa_status_handler(self: _Root) -> MfaStatusHandler:
        from dashtam.application.auth.mfa_enrolment import MfaStatusHandler

        return MfaStatusHandler(uow_factory=self.read_unit_of_work)

    def reset_mfa_handler(self: _Root) -> ResetMfaHandler:
        from dashtam.application.admin.handlers import ResetMfaHandler

        return ResetMfaHandler(uow_factory=self.unit_of_work, logger=self.logger("dashtam.admin"))

    def revoke_other_sessions_handler(self: _Root) -> RevokeOtherSessionsHandler:
        from dashtam.application.auth.sessions import RevokeOtherSessionsHandler

        return RevokeOtherSessionsHandler(
            uow_factory=self.unit_of_work, logger=self.logger("dashtam.auth")
        )


class _MfaRoot(_Root, Protocol):
    @property
    def session_policy(self) -> SessionPolicy: ...

    @property
    def mfa_secrets(self) -> MfaSecrets: ...

    @property
    def totp_algorithm(self) -> TotpAlgorithm: ...

    def totp_check(self) -> TotpCheck: ...

    def recovery_code_check(self) -> RecoveryCodeCheck: ...
