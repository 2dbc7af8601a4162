"""SQLAlchemy adapters of the session, refresh-token and log-in-attempt ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import cast
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    bindparam,
    delete,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.auth.entities import AuthSession, LoginAttempt, RefreshToken
from dashtam.domain.users.entities import User
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.core_insert import insert_row
from dashtam.infrastructure.persistence.models.auth import (
    AuthSessionModel,
    LoginAttemptModel,
    RefreshTokenModel,
)
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.rows import as_model, columns_of
from dashtam.infrastructure.persistence.types import UTCDateTime

_STALE = ConflictError("the session was changed by someone else; retry", code="stale_version")
# Built once: every authenticated request runs it (see persistence/rows.py). On the tables
# (Core), joins and WHERE included: an ORM entity or attribute anywhere in it would make it an
# ORM statement, its rows loaded through the ORM.
_SESSIONS = cast(Table, AuthSessionModel.__table__)
_USERS = cast(Table, UserModel.__table__)
_SESSION_WITH_USER = (
    select(*columns_of(AuthSessionModel, "s_"), *columns_of(UserModel, "u_"))
    .join_from(_SESSIONS, _USERS, _USERS.c.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.id == bindparam("session_id"))
)

# The log-in's statements, built once: constructing a statement costs about as much CPU as
# running it, and a log-in runs a dozen (bench/login_storm.py: the event loop's share).
_ATTEMPTS = cast(Table, LoginAttemptModel.__table__)
_LOCK_ACCOUNT = select(func.pg_advisory_xact_lock(bindparam("lock_id", type_=BigInteger)))
_SINCE = bindparam("since", type_=UTCDateTime())
_LAST_SUCCESS = (
    select(func.max(_ATTEMPTS.c.created_at))
    .where(_ATTEMPTS.c.account_key == bindparam("key"), _ATTEMPTS.c.succeeded == true())
    .scalar_subquery()
)


def _failures_since(*conditions: ColumnElement[bool]) -> Select[datetime]:
    """Times of the failed attempts after ``since`` that meet ``conditions``, oldest first."""
    return (
        select(_ATTEMPTS.c.created_at)
        .where(*conditions, _ATTEMPTS.c.succeeded == false(), _ATTEMPTS.c.created_at > _SINCE)
        .order_by(_ATTEMPTS.c.created_at)
    )


_ACCOUNT_FAILURES = _failures_since(
    _ATTEMPTS.c.account_key == bindparam("key"),
    _ATTEMPTS.c.created_at > func.coalesce(_LAST_SUCCESS, _SINCE),
)
_IP_FAILURES = _failures_since(_ATTEMPTS.c.ip_address == bindparam("ip_address"))
_REMOVE_ATTEMPT = delete(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("attempt_id"))
_COUNT_AS_SUCCESS = (
    update(_ATTEMPTS).where(_ATTEMPTS.c.id == bindparam("attempt_id")).values(succeeded=True)
)


class SqlSessionRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add(self, session: AuthSession) -> Result[AuthSession, Error]:
        # A Core insert: a new session is not read back in the transaction that opens it.
        await insert_row(self._session, AuthSessionModel, AuthSessionModel.values_of(session))
        return Success(replace(session))

    @classified
    async def get(self, session_id: UUID) -> Result[AuthSession | None, Error]:
        model = await self._session.get(AuthSessionModel, session_id)
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def get_with_user(
        self, session_id: UUID
    ) -> Result[tuple[AuthSession, User] | None, Error]:
        found = await self._session.execute(_SESSION_WITH_USER, {"session_id": session_id})
        row = found.first()
        if row is None:
            return Success(None)
        values = row._mapping
        session = AuthSessionModel.to_entity(as_model(AuthSessionModel, values, "s_"))
        return Success((session, UserModel.to_entity(as_model(UserModel, values, "u_"))))

    @classified(stale_version=_STALE)
    async def update(self, session: AuthSession) -> Result[AuthSession, Error]:
        model = await self._session.get(AuthSessionModel, session.id)
        if model is None:
            return Failure(NotFoundError("session not found"))
        if model.version != session.version:
            return Failure(_STALE)
        model.apply(session)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def list_active(
        self, user_id: UUID, *, now: datetime
    ) -> Result[Sequence[AuthSession], Error]:
        query = (
            select(AuthSessionModel)
            .where(
                AuthSessionModel.user_id == user_id,
                AuthSessionModel.revoked_at.is_(None),
                AuthSessionModel.expires_at > now,
            )
            .order_by(AuthSessionModel.id.desc())
        )
        rows = (await self._session.scalars(query)).all()
        return Success([row.to_entity() for row in rows])

    @classified
    async def revoke_all(
        self, user_id: UUID, *, reason: str, now: datetime, keep: UUID | None = None
    ) -> Result[Sequence[UUID], Error]:
        conditions = [
            AuthSessionModel.user_id == user_id,
            AuthSessionModel.revoked_at.is_(None),
            AuthSessionModel.expires_at > now,
        ]
        if keep is not None:
            conditions.append(AuthSessionModel.id != keep)
        statement = (
            update(AuthSessionModel)
            .where(*conditions)
            .values(
                revoked_at=now,
                revoked_reason=reason,
                updated_at=now,
                version=AuthSessionModel.version + 1,
            )
            .returning(AuthSessionModel.id)
            .execution_options(synchronize_session=False)
        )
        revoked = list((await self._session.scalars(statement)).all())
        # Loaded copies in this session are now stale; make later reads see the revocation.
        self._session.expire_all()
        return Success(revoked)


class SqlRefreshTokenRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add(self, token: RefreshToken) -> Result[RefreshToken, Error]:
        await insert_row(self._session, RefreshTokenModel, RefreshTokenModel.values_of(token))
        return Success(token)

    @classified
    async def find_by_hash(self, token_hash: str) -> Result[RefreshToken | None, Error]:
        model = (
            await self._session.scalars(
                select(RefreshTokenModel).where(RefreshTokenModel.token_hash == token_hash)
            )
        ).one_or_none()
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def mark_rotated(self, token_id: UUID, *, now: datetime) -> Result[bool, Error]:
        # Conditional UPDATE: of two concurrent uses of one token exactly one sees a row.
        statement = (
            update(RefreshTokenModel)
            .where(RefreshTokenModel.id == token_id, RefreshTokenModel.rotated_at.is_(None))
            .values(rotated_at=now)
            .returning(RefreshTokenModel.id)
            .execution_options(synchronize_session=False)
        )
        won = (await self._session.scalars(statement)).one_or_none() is not None
        return Success(won)


class SqlLoginAttemptRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def lock_account(self, account_key: str) -> Result[None, Error]:
        # SQLite needs nothing: BEGIN IMMEDIATE already serialises every writing transaction.
        if self._session.get_bind().dialect.name != "postgresql":
            return Success(None)
        # A transaction-scoped advisory lock on the account: concurrent attempts check the
        # throttle one after another, each seeing the failures counted before it.
        lock_id = int.from_bytes(bytes.fromhex(account_key[:16]), "big", signed=True)
        await self._session.execute(_LOCK_ACCOUNT, {"lock_id": lock_id})
        return Success(None)

    @classified
    async def add(self, attempt: LoginAttempt) -> Result[None, Error]:
        await insert_row(self._session, LoginAttemptModel, LoginAttemptModel.values_of(attempt))
        return Success(None)

    @classified
    async def remove(self, attempt_id: UUID) -> Result[None, Error]:
        await self._session.execute(_REMOVE_ATTEMPT, {"attempt_id": attempt_id})
        return Success(None)

    @classified
    async def count_as_success(self, attempt_id: UUID) -> Result[None, Error]:
        await self._session.execute(_COUNT_AS_SUCCESS, {"attempt_id": attempt_id})
        return Success(None)

    async def account_failures(
        self, account_key: str, *, since: datetime
    ) -> Result[list[datetime], Error]:
        return await self._times(_ACCOUNT_FAILURES, {"key": account_key, "since": since})

    async def ip_failures(
        self, ip_address: str, *, since: datetime
    ) -> Result[list[datetime], Error]:
        return await self._times(_IP_FAILURES, {"ip_address": ip_address, "since": since})

    @classified
    async def _times(
        self, query: Select[datetime], parameters: dict[str, object]
    ) -> Result[list[datetime], Error]:
        return Success(list((await self._session.scalars(query, parameters)).all()))
