"""What the second-factor use cases share: where a secret is bound, recovery codes, checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dashtam.application.auth.timing import DummyPasswordCheck
from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.errors import ConflictError, Error, ValidationError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.auth.second_factor import RECOVERY_CODE_COUNT, RecoveryCode, TotpFactor
from dashtam.domain.protocols.credentials import CredentialCipher
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.protocols.second_factor import MfaSecrets, TotpAlgorithm


def totp_context(user_id: UUID) -> str:
    """What a sealed TOTP secret is bound to: copied onto another user's row, it will not open."""
    return f"totp:{user_id}"


def invalid_code() -> ValidationError:
    return ValidationError(
        "the code is not valid", code="invalid_mfa_code", details={"field": "code"}
    )


@dataclass(frozen=True, slots=True)
class IssuedRecoveryCodes:
    """The codes as the user sees them (once), and what is stored of them."""

    shown: Sequence[str]
    stored: Sequence[RecoveryCode]


class RecoveryCodeCheck:
    """Makes and checks recovery codes: a public selector finds one, the password hasher
    checks the rest (fewer than 112 bits: NIST SP 800-63B-4 asks for a password hash)."""

    def __init__(
        self, *, secrets: MfaSecrets, hasher: PasswordHasher, dummy_check: DummyPasswordCheck
    ) -> None:
        self._secrets = secrets
        self._hasher = hasher
        self._dummy_check = dummy_check

    async def issue(self, user_id: UUID, *, now: datetime) -> IssuedRecoveryCodes:
        shown: list[str] = []
        stored: list[RecoveryCode] = []
        selectors: set[str] = set()
        while len(shown) < RECOVERY_CODE_COUNT:
            code, selector, secret = self._secrets.new_recovery_code()
            if selector in selectors:
                continue  # selectors are unique per user: draw again
            selectors.add(selector)
            shown.append(code)
            stored.append(
                RecoveryCode(
                    user_id=user_id,
                    selector=selector,
                    code_hash=await self._hasher.hash(secret),
                    created_at=now,
                )
            )
        return IssuedRecoveryCodes(shown=shown, stored=stored)

    async def verify(self, code: RecoveryCode | None, typed: str) -> bool:
        """Whether ``typed`` is ``code``; as slow when there is no such code."""
        parsed = self._secrets.parse_recovery_code(typed)
        if code is None or parsed is None or parsed[0] != code.selector:
            await self._dummy_check.verify(typed[:64])
            return False
        return await self._hasher.verify(code.code_hash, parsed[1])


class TotpCheck:
    """Opens a factor's sealed secret and finds the time step a typed code belongs to."""

    def __init__(self, *, totp: TotpAlgorithm, cipher: CredentialCipher) -> None:
        self._totp = totp
        self._cipher = cipher

    def step_of(self, factor: TotpFactor, code: str, *, now: datetime) -> Result[int, Error]:
        """The code's step; ``invalid_mfa_code`` when wrong or already used (a replay)."""
        opened = self._cipher.open(factor.sealed_secret, context=totp_context(factor.user_id))
        if isinstance(opened, Failure):
            return opened
        step = self._totp.matching_step(opened.value, code, now=now)
        if step is None:
            return Failure(invalid_code())
        if not factor.accepts_step(step):
            return Failure(
                ValidationError(
                    "this code was already used; wait for the next one",
                    code="mfa_code_reused",
                    details={"field": "code"},
                )
            )
        return Success(step)


def not_enabled() -> ConflictError:
    return ConflictError("no second factor is enabled", code="mfa_not_enabled")


async def other_sessions(uow: UnitOfWork, user_id: UUID, keep: UUID, now: datetime) -> int:
    """How many of the user's other sessions are active (offered to end after a change)."""
    active = await uow.sessions.list_active(user_id, now=now)
    return sum(1 for s in active.value if s.id != keep) if isinstance(active, Success) else 0
