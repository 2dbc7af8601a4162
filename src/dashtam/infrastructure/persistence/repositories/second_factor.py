"""SQLAlchemy adapters of the second-factor and MFA-challenge ports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.auth.second_factor import MfaChallenge, RecoveryCode, TotpFactor
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.second_factor import (
    MfaChallengeModel,
    RecoveryCodeModel,
    TotpFactorModel,
)

# Built once: every log-in asks whether the account has a second factor.
_TOTP_OF_USER = select(TotpFactorModel).where(TotpFactorModel.user_id == bindparam("user_id"))
_STALE = ConflictError(
    "the second factor was changed by another request; retry", code="stale_version"
)


class SqlSecondFactorRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def get_totp(self, user_id: UUID) -> Result[TotpFactor | None, Error]:
        model = (await self._session.scalars(_TOTP_OF_USER, {"user_id": user_id})).one_or_none()
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def add_totp(self, factor: TotpFactor) -> Result[TotpFactor, Error]:
        model = TotpFactorModel.from_entity(factor)
        self._session.add(model)
        await self._session.flush()
        return Success(model.to_entity())

    @classified(stale_version=_STALE)
    async def update_totp(self, factor: TotpFactor) -> Result[TotpFactor, Error]:
        model = await self._session.get(TotpFactorModel, factor.id)
        if model is None:
            return Failure(NotFoundError("no authenticator is enrolled"))
        if model.version != factor.version:
            return Failure(_STALE)
        model.apply(factor)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def use_step(self, factor_id: UUID, step: int) -> Result[bool, Error]:
        # Conditional UPDATE: of two requests with the same code exactly one sees a row.
        statement = (
            update(TotpFactorModel)
            .where(
                TotpFactorModel.id == factor_id,
                or_(
                    TotpFactorModel.last_used_step.is_(None),
                    TotpFactorModel.last_used_step < step,
                ),
            )
            .values(
                last_used_step=step,
                updated_at=func.current_timestamp(),
                version=TotpFactorModel.version + 1,
            )
            .returning(TotpFactorModel.id)
            .execution_options(synchronize_session=False)
        )
        won = (await self._session.scalars(statement)).one_or_none() is not None
        self._session.expire_all()
        return Success(won)

    @classified
    async def remove_all(self, user_id: UUID) -> Result[bool, Error]:
        await self._session.execute(
            delete(RecoveryCodeModel).where(RecoveryCodeModel.user_id == user_id)
        )
        removed = await self._session.scalars(
            delete(TotpFactorModel)
            .where(TotpFactorModel.user_id == user_id)
            .returning(TotpFactorModel.id)
            .execution_options(synchronize_session=False)
        )
        existed = removed.one_or_none() is not None
        self._session.expire_all()
        return Success(existed)

    @classified
    async def replace_recovery_codes(
        self, user_id: UUID, codes: Sequence[RecoveryCode]
    ) -> Result[None, Error]:
        await self._session.execute(
            delete(RecoveryCodeModel).where(RecoveryCodeModel.user_id == user_id)
        )
        self._session.add_all(RecoveryCodeModel.from_entity(code) for code in codes)
        await self._session.flush()
        return Success(None)

    @classified
    async def find_recovery_code(
        self, user_id: UUID, selector: str
    ) -> Result[RecoveryCode | None, Error]:
        model = (
            await self._session.scalars(
                select(RecoveryCodeModel).where(
                    RecoveryCodeModel.user_id == user_id, RecoveryCodeModel.selector == selector
                )
            )
        ).one_or_none()
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def use_recovery_code(self, code_id: UUID, *, now: datetime) -> Result[bool, Error]:
        statement = (
            update(RecoveryCodeModel)
            .where(RecoveryCodeModel.id == code_id, RecoveryCodeModel.used_at.is_(None))
            .values(used_at=now)
            .returning(RecoveryCodeModel.id)
            .execution_options(synchronize_session=False)
        )
        return Success((await self._session.scalars(statement)).one_or_none() is not None)

    @classified
    async def unused_recovery_codes(self, user_id: UUID) -> Result[int, Error]:
        count = await self._session.scalar(
            select(func.count())
            .select_from(RecoveryCodeModel)
            .where(RecoveryCodeModel.user_id == user_id, RecoveryCodeModel.used_at.is_(None))
        )
        return Success(int(count or 0))

    @classified
    async def sealed_secrets(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[tuple[UUID, str]], Error]:
        query = (
            select(TotpFactorModel.user_id, TotpFactorModel.sealed_secret)
            .order_by(TotpFactorModel.user_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(TotpFactorModel.user_id > after)
        rows = (await self._session.execute(query)).all()
        return Success([(row.user_id, row.sealed_secret) for row in rows])

    @classified
    async def store_secret(self, user_id: UUID, sealed: str) -> Result[None, Error]:
        await self._session.execute(
            update(TotpFactorModel)
            .where(TotpFactorModel.user_id == user_id)
            .values(sealed_secret=sealed, version=TotpFactorModel.version + 1)
            .execution_options(synchronize_session=False)
        )
        return Success(None)


class SqlMfaChallengeRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add(self, challenge: MfaChallenge) -> Result[MfaChallenge, Error]:
        self._session.add(MfaChallengeModel.from_entity(challenge))
        await self._session.flush()
        return Success(challenge)

    @classified
    async def find_by_hash(self, ticket_hash: str) -> Result[MfaChallenge | None, Error]:
        model = (
            await self._session.scalars(
                select(MfaChallengeModel).where(MfaChallengeModel.ticket_hash == ticket_hash)
            )
        ).one_or_none()
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def count_failure(self, challenge_id: UUID) -> Result[None, Error]:
        await self._session.execute(
            update(MfaChallengeModel)
            .where(MfaChallengeModel.id == challenge_id)
            .values(failures=MfaChallengeModel.failures + 1)
            .execution_options(synchronize_session=False)
        )
        return Success(None)

    @classified
    async def complete(self, challenge_id: UUID, *, now: datetime) -> Result[bool, Error]:
        statement = (
            update(MfaChallengeModel)
            .where(MfaChallengeModel.id == challenge_id, MfaChallengeModel.completed_at.is_(None))
            .values(completed_at=now)
            .returning(MfaChallengeModel.id)
            .execution_options(synchronize_session=False)
        )
        return Success((await self._session.scalars(statement)).one_or_none() is not None)
