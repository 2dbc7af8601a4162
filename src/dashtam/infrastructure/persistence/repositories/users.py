"""SQLAlchemy adapter of the ``UserRepository`` port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from uuid import UUID

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.core.validation import fold_case
from dashtam.domain.users.entities import User
from dashtam.domain.users.repository import UserFilter
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.core_insert import insert_row
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.sql import LIKE_ESCAPE, contains_pattern

_EMAIL_TAKEN = ConflictError("an account with this email already exists", code="email_taken")
# Built once: every log-in runs it.
_BY_EMAIL = select(UserModel).where(UserModel.email == bindparam("email"))
_STALE = ConflictError(
    "the user was changed by someone else; reload and retry", code="stale_version"
)


class SqlUserRepository:
    """Flushes so that constraint errors surface here, typed; never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified(unique_violation=_EMAIL_TAKEN)
    async def add(self, user: User) -> Result[User, Error]:
        # No savepoint: a failed insert poisons the transaction, and the unit of work then
        # rolls back the whole use case anyway (saves two round trips per write). A Core
        # insert of the entity's values: the ORM's bookkeeping (and an instance to carry the
        # values) would cost more than the round trip.
        await insert_row(self._session, UserModel, UserModel.values_of(user))
        return Success(replace(user))

    @classified(unique_violation=_EMAIL_TAKEN, stale_version=_STALE)
    async def update(self, user: User) -> Result[User, Error]:
        model = await self._session.get(UserModel, user.id)
        if model is None:
            return Failure(NotFoundError("user not found"))
        if model.version != user.version:
            return Failure(_STALE)
        model.apply(user)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def delete(self, user_id: UUID) -> Result[None, Error]:
        result = await self._session.execute(
            delete(UserModel).where(UserModel.id == user_id).returning(UserModel.id)
        )
        if result.scalar_one_or_none() is None:
            return Failure(NotFoundError("user not found"))
        return Success(None)

    @classified
    async def get(self, user_id: UUID) -> Result[User | None, Error]:
        model = await self._session.get(UserModel, user_id)
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def find_by_email(self, email: Email) -> Result[User | None, Error]:
        result = await self._session.execute(_BY_EMAIL, {"email": email.value})
        model = result.scalar_one_or_none()
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def search(
        self, criteria: UserFilter, *, after: UUID | None, limit: int
    ) -> Result[Sequence[User], Error]:
        query = select(UserModel).order_by(UserModel.id).limit(limit)
        if after is not None:
            query = query.where(UserModel.id > after)
        if criteria.email_contains:
            # Emails are stored case-folded, so folding the needle is case-insensitive.
            pattern = contains_pattern(fold_case(criteria.email_contains))
            query = query.where(UserModel.email.like(pattern, escape=LIKE_ESCAPE))
        if criteria.role is not None:
            query = query.where(UserModel.role == criteria.role.value)
        if criteria.is_active is not None:
            query = query.where(UserModel.is_active.is_(criteria.is_active))
        rows = (await self._session.scalars(query)).all()
        return Success([row.to_entity() for row in rows])
