"""Ports: where sessions, refresh tokens and log-in attempts are stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from dashtam.core.errors import Error
from dashtam.core.result import Result
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from dashtam.domain.users.entities import User


class SessionRepository(Protocol):
    """Adapters flush, never commit; after a failed write the caller rolls back."""

    async def add(self, session: AuthSession) -> Result[AuthSession, Error]: ...

    async def get(self, session_id: UUID) -> Result[AuthSession | None, Error]: ...

    async def get_with_user(
        self, session_id: UUID
    ) -> Result[tuple[AuthSession, User] | None, Error]:
        """The session and the user it belongs to, read together (every request needs both)."""
        ...

    async def update(self, session: AuthSession) -> Result[AuthSession, Error]: ...

    async def list_active(
        self, user_id: UUID, *, now: datetime
    ) -> Result[Sequence[AuthSession], Error]:
        """Sessions not revoked and not expired, newest first."""
        ...

    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime, keep: UUID | None = None
    ) -> Result[Sequence[UUID], Error]:
        """Revoke every active session of the user (but ``keep``); returns the revoked ids."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> Result[RefreshToken, Error]: ...

    async def find_by_hash(self, token_hash: str) -> Result[RefreshToken | None, Error]: ...

    async def mark_rotated(self, token_id: UUID, *, now: datetime) -> Result[bool, Error]:
        """Mark a token used; False when it already was (a concurrent use won the race)."""
        ...


class LoginAttemptRepository(Protocol):
    async def lock_account(self, account_key: str) -> Result[None, Error]:
        """Serialise attempts on one account until the transaction ends (check, then count)."""
        ...

    async def add(self, attempt: LoginAttempt) -> Result[None, Error]: ...

    async def remove(self, attempt_id: UUID) -> Result[None, Error]:
        """Drop an attempt counted in advance once it turned out to be no failure."""
        ...

    async def count_as_success(self, attempt_id: UUID) -> Result[None, Error]:
        """An attempt counted in advance as failed succeeded: it counts as a success now
        (which resets the account's count), at the time it was made."""
        ...

    async def account_failures(
        self, account_key: str, *, since: datetime
    ) -> Result[list[datetime], Error]:
        """Times of failures since ``since`` that came after the account's last success."""
        ...

    async def ip_failures(
        self, ip_address: str, *, since: datetime
    ) -> Result[list[datetime], Error]: ...


class SecondFactorRepository(Protocol):
    """A user's authenticator and recovery codes (at most one authenticator per user)."""

    async def get_totp(self, user_id: UUID) -> Result[TotpFactor | None, Error]: ...

    async def add_totp(self, factor: TotpFactor) -> Result[TotpFactor, Error]: ...

    async def update_totp(self, factor: TotpFactor) -> Result[TotpFactor, Error]:
        """Versioned: a factor changed meanwhile is a ``stale_version`` conflict."""
        ...

    async def use_step(self, factor_id: UUID, step: int) -> Result[bool, Error]:
        """Record ``step`` as used; False when it (or a later one) already was: a replay."""
        ...

    async def remove_all(self, user_id: UUID) -> Result[bool, Error]:
        """Remove the authenticator and every recovery code; False when there was none."""
        ...

    async def replace_recovery_codes(
        self, user_id: UUID, codes: Sequence[RecoveryCode]
    ) -> Result[None, Error]: ...

    async def find_recovery_code(
        self, user_id: UUID, selector: str
    ) -> Result[RecoveryCode | None, Error]:
        """The code with that selector, used or not (a second use must be told apart)."""
        ...

    async def use_recovery_code(self, code_id: UUID, *, now: datetime) -> Result[bool, Error]:
        """Mark the code used; False when it already was (a concurrent use won the race)."""
        ...

    async def unused_recovery_codes(self, user_id: UUID) -> Result[int, Error]: ...

    async def sealed_secrets(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[tuple[UUID, str]], Error]:
        """(user id, sealed secret) by user id, for re-sealing under a new key."""
        ...

    async def store_secret(self, user_id: UUID, sealed: str) -> Result[None, Error]: ...


class MfaChallengeRepository(Protocol):
    async def add(self, challenge: MfaChallenge) -> Result[MfaChallenge, Error]: ...

    async def find_by_hash(self, ticket_hash: str) -> Result[MfaChallenge | None, Error]: ...

    async def count_failure(self, challenge_id: UUID) -> Result[None, Error]: ...

    async def complete(self, challenge_id: UUID, *, now: datetime) -> Result[bool, Error]:
        """Close the challenge; False when it was already closed (the ticket was used)."""
        ...
