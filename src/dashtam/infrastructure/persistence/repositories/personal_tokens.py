"""SQLAlchemy adapter of the ``PersonalTokenRepository`` port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.personal_tokens.entities import PersonalAccessToken
from dashtam.domain.users.entities import User
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.personal_tokens import PersonalTokenModel
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.rows import as_model, columns_of
from dashtam.infrastructure.persistence.types import UTCDateTime

_STALE = ConflictError(
    "the personal access token was changed meanwhile; reload and retry", code="stale_version"
)
# Built once: every request made with a personal token runs it (see persistence/rows.py).
_TOKEN_WITH_USER = (
    select(*columns_of(PersonalTokenModel, "t_"), *columns_of(UserModel, "u_"))
    .join_from(PersonalTokenModel, UserModel, UserModel.id == PersonalTokenModel.user_id)
    .where(PersonalTokenModel.token_hash == bindparam("token_hash"))
)
_TABLE = cast(Table, PersonalTokenModel.__table__)
_USED_AT = bindparam("used_at", type_=UTCDateTime())
# A Core UPDATE run as an executemany (one statement, many tokens): no ORM versioning, so a
# use never bumps ``version`` and never conflicts with a revocation.
_MARK_USED = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("token_id"),
        or_(_TABLE.c.last_used_at.is_(None), _TABLE.c.last_used_at < _USED_AT),
    )
    # Named, so that the column's ``onupdate`` does not move it: a use is not an edit.
    .values(last_used_at=_USED_AT, updated_at=_TABLE.c.updated_at)
)


class SqlPersonalTokenRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add(self, token: PersonalAccessToken) -> Result[PersonalAccessToken, Error]:
        model = PersonalTokenModel.from_entity(token)
        self._session.add(model)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def get(self, token_id: UUID) -> Result[PersonalAccessToken | None, Error]:
        model = await self._session.get(PersonalTokenModel, token_id)
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def find_with_user(
        self, token_hash: str
    ) -> Result[tuple[PersonalAccessToken, User] | None, Error]:
        found = await self._session.execute(_TOKEN_WITH_USER, {"token_hash": token_hash})
        row = found.first()
        if row is None:
            return Success(None)
        values = row._mapping
        token = PersonalTokenModel.to_entity(as_model(PersonalTokenModel, values, "t_"))
        return Success((token, UserModel.to_entity(as_model(UserModel, values, "u_"))))

    @classified
    async def list_for_user(
        self, user_id: UUID, *, after: UUID | None, limit: int
    ) -> Result[Sequence[PersonalAccessToken], Error]:
        query = select(PersonalTokenModel).where(PersonalTokenModel.user_id == user_id)
        if after is not None:
            query = query.where(PersonalTokenModel.id < after)
        query = query.order_by(PersonalTokenModel.id.desc()).limit(limit)
        rows = (await self._session.scalars(query)).all()
        return Success([row.to_entity() for row in rows])

    @classified
    async def count_active(self, user_id: UUID, *, now: datetime) -> Result[int, Error]:
        query = select(func.count()).where(
            PersonalTokenModel.user_id == user_id,
            PersonalTokenModel.revoked_at.is_(None),
            PersonalTokenModel.expires_at > now,
        )
        return Success(int(await self._session.scalar(query) or 0))

    @classified(stale_version=_STALE)
    async def update(self, token: PersonalAccessToken) -> Result[PersonalAccessToken, Error]:
        model = await self._session.get(PersonalTokenModel, token.id)
        if model is None:
            return Failure(NotFoundError("personal access token not found"))
        if model.version != token.version:
            return Failure(_STALE)
        model.apply(token)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime
    ) -> Result[Sequence[UUID], Error]:
        statement = (
            update(PersonalTokenModel)
            .where(PersonalTokenModel.user_id == user_id, PersonalTokenModel.revoked_at.is_(None))
            .values(
                revoked_at=now,
                revoked_reason=reason,
                updated_at=now,
                version=PersonalTokenModel.version + 1,
            )
            .returning(PersonalTokenModel.id)
            .execution_options(synchronize_session=False)
        )
        revoked = list((await self._session.scalars(statement)).all())
        # Loaded copies in this session are now stale; make later reads see the revocation.
        self._session.expire_all()
        return Success(revoked)

    @classified
    async def mark_used(self, uses: Mapping[UUID, datetime]) -> Result[None, Error]:
        if uses:
            parameters: list[dict[str, Any]] = [
                {"token_id": token_id, "used_at": used_at} for token_id, used_at in uses.items()
            ]
            await self._session.execute(_MARK_USED, parameters)
        return Success(None)
