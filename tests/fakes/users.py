"""In-memory ``UserRepository`` that behaves like ``SqlUserRepository``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.validation import fold_case
from dashtam.domain.users.entities import User
from dashtam.domain.users.repository import UserFilter
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes.faults import Faults


def email_taken() -> ConflictError:
    return ConflictError("an account with this email already exists", code="email_taken")


def stale_version() -> ConflictError:
    return ConflictError(
        "the user was changed by someone else; reload and retry", code="stale_version"
    )


def _integrity_error() -> DatabaseError:
    # What the ``email = lower(email)`` CHECK turns into on both SQL backends.
    return DatabaseError("data violates an integrity constraint", code="integrity_error")


def _aborted() -> DatabaseError:
    # What classify() makes of SQLAlchemy's PendingRollbackError.
    return DatabaseError("database operation failed")


def _same_row(a: User, b: User) -> bool:
    """True when ``b`` changes none of the columns ``UserModel.apply`` copies."""
    return (a.email, a.password_hash, a.role, a.is_active, a.closed_at) == (
        b.email,
        b.password_hash,
        b.role,
        b.is_active,
        b.closed_at,
    )


class FakeUserRepository:
    """Writes are staged (like a flushed, uncommitted transaction) over a shared ``table``.

    The repository itself sees its staged writes; others see them only after
    ``apply_staged()`` (the fake commit). Entities are copied in and out, as rows would be.
    """

    def __init__(self, *, table: dict[UUID, User] | None = None, faults: Faults | None = None):
        self.table: dict[UUID, User] = table if table is not None else {}
        self._faults = faults or Faults()
        self._staged: dict[UUID, User | None] = {}
        # The committed version (None: absent) seen when a row was first staged; a commit
        # whose rows moved on since then is a conflict, as concurrent SQL writers would be.
        self._expected: dict[UUID, int | None] = {}
        # SqlUserRepository flushes without a savepoint: after a failed write the transaction
        # is dead until rolled back. The fake refuses work likewise, so that unit tests catch
        # a handler that carries on after a failed write.
        self._poisoned = False

    async def add(self, user: User) -> Result[User, Error]:
        if (refused := self._refuse("add")) is not None:
            return Failure(refused)
        if user.email.value != user.email.value.lower():
            return self._poison(_integrity_error())
        # SqlUserRepository maps every unique violation (id or email) to ``email_taken``.
        if self._current(user.id) is not None or self._owner_of(user.email) is not None:
            return self._poison(email_taken())
        stored = replace(
            user,
            version=1,  # the ORM starts every row at version 1
            created_at=user.created_at.astimezone(UTC),
            updated_at=user.updated_at.astimezone(UTC),
        )
        self._stage(user.id, stored)
        return Success(replace(stored))

    async def update(self, user: User) -> Result[User, Error]:
        if (refused := self._refuse("update")) is not None:
            return Failure(refused)
        current = self._current(user.id)
        if current is None:
            return Failure(NotFoundError("user not found"))
        if current.version != user.version:
            return Failure(stale_version())
        if user.email.value != user.email.value.lower():
            return self._poison(_integrity_error())
        owner = self._owner_of(user.email)
        if owner is not None and owner.id != user.id:
            return self._poison(email_taken())
        if _same_row(current, user):
            # The ORM emits no UPDATE when nothing changed: version and updated_at stay.
            return Success(replace(current))
        stored = replace(
            current,
            email=user.email,
            password_hash=user.password_hash,
            role=user.role,
            is_active=user.is_active,
            closed_at=user.closed_at.astimezone(UTC) if user.closed_at else None,
            version=current.version + 1,
            updated_at=utcnow(),
        )
        self._stage(user.id, stored)
        return Success(replace(stored))

    async def delete(self, user_id: UUID) -> Result[None, Error]:
        if (refused := self._refuse("delete")) is not None:
            return Failure(refused)
        if self._current(user_id) is None:
            return Failure(NotFoundError("user not found"))
        self._stage(user_id, None)
        return Success(None)

    async def get(self, user_id: UUID) -> Result[User | None, Error]:
        if (refused := self._refuse("get")) is not None:
            return Failure(refused)
        current = self._current(user_id)
        return Success(replace(current) if current is not None else None)

    async def find_by_email(self, email: Email) -> Result[User | None, Error]:
        if (refused := self._refuse("find_by_email")) is not None:
            return Failure(refused)
        owner = self._owner_of(email)
        return Success(replace(owner) if owner is not None else None)

    async def search(
        self, criteria: UserFilter, *, after: UUID | None, limit: int
    ) -> Result[Sequence[User], Error]:
        if (refused := self._refuse("search")) is not None:
            return Failure(refused)
        needle = fold_case(criteria.email_contains) if criteria.email_contains else None
        matches = sorted(
            (
                user
                for user in self._visible()
                if (needle is None or needle in user.email.value)
                and (criteria.role is None or user.role is criteria.role)
                and (criteria.is_active is None or user.is_active is criteria.is_active)
                and (after is None or user.id > after)
            ),
            key=lambda user: user.id,
        )
        return Success([replace(user) for user in matches[: max(limit, 0)]])

    # -- the fake transaction -------------------------------------------------------------

    def check_staged(self) -> Error | None:
        """The conflict committing the staged writes would meet now, if any."""
        if self._poisoned:
            return _aborted()
        for user_id, expected in self._expected.items():
            committed = self.table.get(user_id)
            if (committed.version if committed is not None else None) != expected:
                return stale_version() if expected is not None else email_taken()
        merged = {**self.table, **self._staged}
        emails = [user.email for user in merged.values() if user is not None]
        if len(emails) != len(set(emails)):
            return email_taken()
        return None

    def apply_staged(self) -> None:
        for user_id, user in self._staged.items():
            if user is None:
                self.table.pop(user_id, None)
            else:
                self.table[user_id] = user
        self.discard_staged()

    def discard_staged(self) -> None:
        self._staged.clear()
        self._expected.clear()
        self._poisoned = False

    def _refuse(self, operation: str) -> Error | None:
        if self._poisoned:
            return _aborted()
        return self._faults.take(operation)

    def _poison(self, error: Error) -> Failure[Error]:
        self._poisoned = True
        return Failure(error)

    def _stage(self, user_id: UUID, user: User | None) -> None:
        if user_id not in self._expected:
            committed = self.table.get(user_id)
            self._expected[user_id] = committed.version if committed is not None else None
        self._staged[user_id] = user

    def _current(self, user_id: UUID) -> User | None:
        if user_id in self._staged:
            return self._staged[user_id]
        return self.table.get(user_id)

    def _visible(self) -> Iterator[User]:
        for user_id in self.table.keys() | self._staged.keys():
            user = self._current(user_id)
            if user is not None:
                yield user

    def _owner_of(self, email: Email) -> User | None:
        # Emails are canonical (Email.parse case-folds), so plain equality is what the
        # SQL unique index enforces.
        return next((user for user in self._visible() if user.email == email), None)
