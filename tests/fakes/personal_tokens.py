"""In-memory ``PersonalTokenRepository``: the SQL adapter's twin (staged until the fake commit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.personal_tokens.entities import PersonalAccessToken
from dashtam.domain.users.entities import User

# The staged-table machinery of the other auth fakes, shared rather than copied.
from tests.fakes.auth import _StagedTable, _utc, duplicate
from tests.fakes.faults import Faults
from tests.fakes.users import FakeUserRepository


def token_stale() -> ConflictError:
    return ConflictError(
        "the personal access token was changed meanwhile; reload and retry",
        code="stale_version",
    )


class FakePersonalTokenRepository(_StagedTable[PersonalAccessToken]):
    def __init__(
        self,
        *,
        table: dict[UUID, PersonalAccessToken] | None = None,
        faults: Faults | None = None,
        users: FakeUserRepository | None = None,
    ) -> None:
        super().__init__(table=table, faults=faults)
        self._users = users
        self._expected: dict[UUID, int] = {}
        # ``mark_used`` changes one column only (no version): applied to whatever row is
        # committed then, like the SQL UPDATE, never as a copy of an older row.
        self._used: dict[UUID, datetime] = {}

    async def add(self, token: PersonalAccessToken) -> Result[PersonalAccessToken, Error]:
        if (refused := self._refuse("personal_tokens.add")) is not None:
            return Failure(refused)
        if self._current(token.id) is not None or self._by_hash(token.token_hash) is not None:
            return self._poison(duplicate())
        stored = replace(
            token,
            scopes=frozenset(token.scopes),
            expires_at=_utc(token.expires_at),
            created_at=_utc(token.created_at),
            updated_at=_utc(token.updated_at),
            last_used_at=_utc(token.last_used_at),
            revoked_at=_utc(token.revoked_at),
            version=1,
        )
        self._staged[token.id] = stored
        return Success(replace(stored))

    async def get(self, token_id: UUID) -> Result[PersonalAccessToken | None, Error]:
        if (refused := self._refuse("personal_tokens.get")) is not None:
            return Failure(refused)
        current = self._seen(token_id)
        return Success(replace(current) if current is not None else None)

    async def find_with_user(
        self, token_hash: str
    ) -> Result[tuple[PersonalAccessToken, User] | None, Error]:
        if (refused := self._refuse("personal_tokens.find_with_user")) is not None:
            return Failure(refused)
        token = self._by_hash(token_hash)
        if token is None:
            return Success(None)
        if self._users is None:
            raise RuntimeError("FakePersonalTokenRepository(users=...) is needed to join the user")
        user = (await self._users.get(token.user_id)).unwrap()
        # An inner join, like the SQL adapter's (a deleted user's tokens cascade away there).
        return Success((replace(token), user) if user is not None else None)

    async def list_for_user(
        self, user_id: UUID, *, after: UUID | None, limit: int
    ) -> Result[Sequence[PersonalAccessToken], Error]:
        if (refused := self._refuse("personal_tokens.list_for_user")) is not None:
            return Failure(refused)
        rows = sorted(
            (
                t
                for t in self._all_seen()
                if t.user_id == user_id and (after is None or t.id < after)
            ),
            key=lambda t: t.id,
            reverse=True,
        )
        return Success([replace(t) for t in rows[:limit]])

    async def count_active(self, user_id: UUID, *, now: datetime) -> Result[int, Error]:
        if (refused := self._refuse("personal_tokens.count_active")) is not None:
            return Failure(refused)
        return Success(sum(1 for t in self._visible() if t.user_id == user_id and t.is_active(now)))

    async def update(self, token: PersonalAccessToken) -> Result[PersonalAccessToken, Error]:
        if (refused := self._refuse("personal_tokens.update")) is not None:
            return Failure(refused)
        current = self._current(token.id)
        if current is None:
            return Failure(NotFoundError("personal access token not found"))
        if current.version != token.version:
            return Failure(token_stale())
        # PersonalTokenModel.apply copies exactly these columns; nothing else is written.
        changed = replace(
            current, revoked_at=_utc(token.revoked_at), revoked_reason=token.revoked_reason
        )
        if changed == current:
            return Success(replace(current))  # no UPDATE sent: the version stays
        self._stage_change(replace(changed, version=current.version + 1))
        return Success(replace(self._staged[token.id]))

    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime
    ) -> Result[Sequence[UUID], Error]:
        if (refused := self._refuse("personal_tokens.revoke_all")) is not None:
            return Failure(refused)
        targets = [t for t in self._visible() if t.user_id == user_id and t.revoked_at is None]
        for target in targets:
            self._stage_change(
                replace(
                    target,
                    revoked_at=_utc(now),
                    revoked_reason=reason,
                    updated_at=_utc(now),
                    version=target.version + 1,
                )
            )
        return Success([target.id for target in targets])

    async def mark_used(self, uses: Mapping[UUID, datetime]) -> Result[None, Error]:
        if (refused := self._refuse("personal_tokens.mark_used")) is not None:
            return Failure(refused)
        for token_id, used_at in uses.items():
            known = self._used.get(token_id)
            if known is None or used_at > known:
                self._used[token_id] = used_at.astimezone(UTC)
        return Success(None)

    def check_staged(self) -> Error | None:
        if (error := super().check_staged()) is not None:
            return error
        for token_id, expected in self._expected.items():
            committed = self.table.get(token_id)
            if committed is None or committed.version != expected:
                return token_stale()
        hashes = [token.token_hash for token in {**self.table, **self._staged}.values()]
        if len(hashes) != len(set(hashes)):
            return duplicate()
        return None

    def apply_staged(self) -> None:
        used, self._used = self._used, {}
        super().apply_staged()
        for token_id, used_at in used.items():
            committed = self.table.get(token_id)
            if committed is not None:
                self.table[token_id] = _used_at(committed, used_at)

    def discard_staged(self) -> None:
        super().discard_staged()
        self._expected.clear()
        self._used = {}

    def _seen(self, token_id: UUID) -> PersonalAccessToken | None:
        """The row as this transaction sees it: its own uses included."""
        current = self._current(token_id)
        used_at = self._used.get(token_id)
        return _used_at(current, used_at) if current is not None and used_at else current

    def _all_seen(self) -> list[PersonalAccessToken]:
        return [seen for t in self._visible() if (seen := self._seen(t.id)) is not None]

    def _by_hash(self, token_hash: str) -> PersonalAccessToken | None:
        return next((t for t in self._all_seen() if t.token_hash == token_hash), None)

    def _stage_change(self, token: PersonalAccessToken) -> None:
        committed = self.table.get(token.id)
        if committed is not None and token.id not in self._expected:
            self._expected[token.id] = committed.version
        self._staged[token.id] = token


def _used_at(token: PersonalAccessToken, used_at: datetime) -> PersonalAccessToken:
    """``token`` after a use at ``used_at``: ``last_used_at`` never moves back."""
    if token.last_used_at is not None and token.last_used_at >= used_at:
        return token
    return replace(token, last_used_at=used_at)
