"""In-memory session, refresh-token and log-in-attempt repositories (the SQL adapters' twins).

Like ``FakeUserRepository``: writes are staged over shared "tables" and become visible to
others only on ``apply_staged()`` (the fake commit); entities are copied in and out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.domain.personal_tokens.entities import PersonalAccessToken
from dashtam.domain.users.entities import User
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes.faults import Faults
from tests.fakes.users import FakeUserRepository

Row = TypeVar("Row", AuthSession, RefreshToken, LoginAttempt, PersonalAccessToken)


def duplicate() -> ConflictError:
    """What ``classify`` makes of a unique violation without an override."""
    return ConflictError("duplicate value", code="duplicate")


def session_stale() -> ConflictError:
    return ConflictError("the session was changed by someone else; retry", code="stale_version")


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


class _StagedTable(Generic[Row]):
    """Committed rows in ``table``; this transaction's writes in ``_staged`` until applied."""

    def __init__(self, *, table: dict[UUID, Row] | None, faults: Faults | None) -> None:
        self.table: dict[UUID, Row] = table if table is not None else {}
        self._faults = faults or Faults()
        self._staged: dict[UUID, Row] = {}
        self._poisoned = False  # a failed write leaves the transaction unusable (no savepoints)

    def check_staged(self) -> Error | None:
        if self._poisoned:
            return DatabaseError("database operation failed")
        return None

    def apply_staged(self) -> None:
        self.table.update(self._staged)
        self.discard_staged()

    def discard_staged(self) -> None:
        self._staged.clear()
        self._poisoned = False

    def _refuse(self, operation: str) -> Error | None:
        if self._poisoned:
            return DatabaseError("database operation failed")
        return self._faults.take(operation)

    def _poison(self, error: Error) -> Failure[Error]:
        self._poisoned = True
        return Failure(error)

    def _current(self, row_id: UUID) -> Row | None:
        return self._staged.get(row_id, self.table.get(row_id))

    def _visible(self) -> Iterator[Row]:
        for row_id in self.table.keys() | self._staged.keys():
            row = self._current(row_id)
            if row is not None:
                yield row


class FakeSessionRepository(_StagedTable[AuthSession]):
    def __init__(
        self,
        *,
        table: dict[UUID, AuthSession] | None = None,
        faults: Faults | None = None,
        users: FakeUserRepository | None = None,
    ) -> None:
        super().__init__(table=table, faults=faults)
        self._expected: dict[UUID, int] = {}
        self._users = users

    async def add(self, session: AuthSession) -> Result[AuthSession, Error]:
        if (refused := self._refuse("sessions.add")) is not None:
            return Failure(refused)
        if self._current(session.id) is not None:
            return self._poison(duplicate())
        stored = replace(
            session,
            expires_at=_utc(session.expires_at),
            created_at=_utc(session.created_at),
            last_used_at=_utc(session.last_used_at),
            revoked_at=_utc(session.revoked_at),
        )
        self._staged[session.id] = stored
        return Success(replace(stored))

    async def get(self, session_id: UUID) -> Result[AuthSession | None, Error]:
        if (refused := self._refuse("sessions.get")) is not None:
            return Failure(refused)
        current = self._current(session_id)
        return Success(replace(current) if current is not None else None)

    async def get_with_user(
        self, session_id: UUID
    ) -> Result[tuple[AuthSession, User] | None, Error]:
        if (refused := self._refuse("sessions.get")) is not None:
            return Failure(refused)
        session = self._current(session_id)
        if session is None:
            return Success(None)
        if self._users is None:
            raise RuntimeError("FakeSessionRepository(users=...) is needed to join the user")
        user = (await self._users.get(session.user_id)).unwrap()
        # An inner join, like the SQL adapter's (a deleted user's sessions cascade away there).
        return Success((replace(session), user) if user is not None else None)

    async def update(self, session: AuthSession) -> Result[AuthSession, Error]:
        if (refused := self._refuse("sessions.update")) is not None:
            return Failure(refused)
        current = self._current(session.id)
        if current is None:
            return Failure(NotFoundError("session not found"))
        if current.version != session.version:
            return Failure(session_stale())
        # AuthSessionModel.apply copies exactly these columns; nothing else is written.
        changed = replace(
            current,
            expires_at=_utc(session.expires_at),
            last_used_at=_utc(session.last_used_at),
            revoked_at=_utc(session.revoked_at),
            revoked_reason=session.revoked_reason,
        )
        if changed == current:
            return Success(replace(current))  # no UPDATE sent: the version stays
        self._stage_change(replace(changed, version=current.version + 1))
        return Success(replace(self._staged[session.id]))

    async def list_active(
        self, user_id: UUID, *, now: datetime
    ) -> Result[Sequence[AuthSession], Error]:
        if (refused := self._refuse("sessions.list_active")) is not None:
            return Failure(refused)
        rows = [s for s in self._visible() if s.user_id == user_id and s.is_active(now)]
        return Success([replace(s) for s in sorted(rows, key=lambda s: s.id, reverse=True)])

    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime, keep: UUID | None = None
    ) -> Result[Sequence[UUID], Error]:
        if (refused := self._refuse("sessions.revoke_all")) is not None:
            return Failure(refused)
        # Like the SQL UPDATE: every active session of the user but ``keep``.
        targets = [
            s for s in self._visible() if s.user_id == user_id and s.is_active(now) and s.id != keep
        ]
        for target in targets:
            self._stage_change(
                replace(
                    target,
                    revoked_at=_utc(now),
                    revoked_reason=reason,
                    version=target.version + 1,
                )
            )
        return Success([target.id for target in targets])

    def check_staged(self) -> Error | None:
        if (error := super().check_staged()) is not None:
            return error
        for session_id, expected in self._expected.items():
            committed = self.table.get(session_id)
            if committed is None or committed.version != expected:
                return session_stale()
        return None

    def discard_staged(self) -> None:
        super().discard_staged()
        self._expected.clear()

    def _stage_change(self, session: AuthSession) -> None:
        committed = self.table.get(session.id)
        if committed is not None and session.id not in self._expected:
            self._expected[session.id] = committed.version
        self._staged[session.id] = session


class FakeRefreshTokenRepository(_StagedTable[RefreshToken]):
    def __init__(
        self, *, table: dict[UUID, RefreshToken] | None = None, faults: Faults | None = None
    ) -> None:
        super().__init__(table=table, faults=faults)
        self._rotating: set[UUID] = set()

    async def add(self, token: RefreshToken) -> Result[RefreshToken, Error]:
        if (refused := self._refuse("refresh_tokens.add")) is not None:
            return Failure(refused)
        if self._current(token.id) is not None or self._by_hash(token.token_hash) is not None:
            return self._poison(duplicate())
        self._staged[token.id] = replace(
            token,
            expires_at=_utc(token.expires_at),
            created_at=_utc(token.created_at),
            rotated_at=_utc(token.rotated_at),
        )
        return Success(token)

    async def find_by_hash(self, token_hash: str) -> Result[RefreshToken | None, Error]:
        if (refused := self._refuse("refresh_tokens.find_by_hash")) is not None:
            return Failure(refused)
        return Success(self._by_hash(token_hash))

    async def mark_rotated(self, token_id: UUID, *, now: datetime) -> Result[bool, Error]:
        if (refused := self._refuse("refresh_tokens.mark_rotated")) is not None:
            return Failure(refused)
        current = self._current(token_id)
        if current is None or current.rotated_at is not None:
            return Success(False)
        self._staged[token_id] = replace(current, rotated_at=_utc(now))
        if token_id in self.table:
            self._rotating.add(token_id)
        return Success(True)

    def check_staged(self) -> Error | None:
        if (error := super().check_staged()) is not None:
            return error
        # Two transactions rotated one token: in SQL the second UPDATE matches no row.
        if any(self.table[token_id].rotated_at is not None for token_id in self._rotating):
            return ConflictError("the refresh token was already used", code="conflict")
        hashes = [token.token_hash for token in {**self.table, **self._staged}.values()]
        if len(hashes) != len(set(hashes)):
            return duplicate()
        return None

    def discard_staged(self) -> None:
        super().discard_staged()
        self._rotating.clear()

    def _by_hash(self, token_hash: str) -> RefreshToken | None:
        return next((t for t in self._visible() if t.token_hash == token_hash), None)


class FakeLoginAttemptRepository(_StagedTable[LoginAttempt]):
    def __init__(
        self, *, table: dict[UUID, LoginAttempt] | None = None, faults: Faults | None = None
    ) -> None:
        super().__init__(table=table, faults=faults)
        self._removed: set[UUID] = set()

    async def lock_account(self, account_key: str) -> Result[None, Error]:
        # One event loop, no await between check and count in the fake: nothing to lock.
        if (refused := self._refuse("login_attempts.lock_account")) is not None:
            return Failure(refused)
        return Success(None)

    async def remove(self, attempt_id: UUID) -> Result[None, Error]:
        if (refused := self._refuse("login_attempts.remove")) is not None:
            return Failure(refused)
        self._staged.pop(attempt_id, None)
        self._removed.add(attempt_id)
        return Success(None)

    async def count_as_success(self, attempt_id: UUID) -> Result[None, Error]:
        if (refused := self._refuse("login_attempts.count_as_success")) is not None:
            return Failure(refused)
        current = None if attempt_id in self._removed else self._current(attempt_id)
        if current is not None:  # like an UPDATE, an unknown id changes nothing
            self._staged[attempt_id] = replace(current, succeeded=True)
        return Success(None)

    def apply_staged(self) -> None:
        for attempt_id in self._removed:
            self.table.pop(attempt_id, None)
        super().apply_staged()

    def discard_staged(self) -> None:
        self._removed = set()
        super().discard_staged()

    def _visible(self) -> Iterator[LoginAttempt]:
        return (row for row in super()._visible() if row.id not in self._removed)

    async def add(self, attempt: LoginAttempt) -> Result[None, Error]:
        if (refused := self._refuse("login_attempts.add")) is not None:
            return Failure(refused)
        if self._current(attempt.id) is not None:
            return self._poison(duplicate())
        self._staged[attempt.id] = replace(attempt, created_at=_utc(attempt.created_at))
        return Success(None)

    async def account_failures(
        self, account_key: str, *, since: datetime
    ) -> Result[list[datetime], Error]:
        if (refused := self._refuse("login_attempts.account_failures")) is not None:
            return Failure(refused)
        mine = [a for a in self._visible() if a.account_key == account_key]
        successes = [a.created_at for a in mine if a.succeeded]
        # A success resets the count: only failures after the last one matter.
        after = max([since, *successes])
        return Success(
            sorted(a.created_at for a in mine if not a.succeeded and a.created_at > after)
        )

    async def ip_failures(
        self, ip_address: str, *, since: datetime
    ) -> Result[list[datetime], Error]:
        if (refused := self._refuse("login_attempts.ip_failures")) is not None:
            return Failure(refused)
        return Success(
            sorted(
                a.created_at
                for a in self._visible()
                if a.ip_address == ip_address and not a.succeeded and a.created_at > since
            )
        )
