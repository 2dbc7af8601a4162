"""SQLAlchemy adapter of the ``SyncStateRepository`` port (columns of ``provider_connections``).

Claims are leases, not locks held for the sync: a worker that dies mid-sync holds nothing
once its lease ends, and the next worker takes the connection over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import Error
from dashtam.core.result import Result, Success
from dashtam.domain.providers.entities import ConnectionStatus, ProviderSlug
from dashtam.domain.providers.sync_state import DueSync, SealedCredential, SyncOutcome
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.finance import ConnectionModel

_C = ConnectionModel


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(_C.sync_claimed_until.is_(None), _C.sync_claimed_until < now)


def _live() -> ColumnElement[bool]:
    return and_(
        _C.provider == ProviderSlug.SIMPLEFIN.value,
        _C.status != ConnectionStatus.DISCONNECTED.value,
        _C.credentials.is_not(None),
    )


class SqlSyncStateRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    async def _update(self, connection_id: UUID, **values: object) -> int:
        result = await self._session.execute(
            update(_C)
            .where(_C.id == connection_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    @classified
    async def store_credentials(
        self, connection_id: UUID, sealed: str | None
    ) -> Result[None, Error]:
        await self._update(connection_id, credentials=sealed)
        return Success(None)

    @classified
    async def sealed_credentials(self, connection_id: UUID) -> Result[str | None, Error]:
        sealed = await self._session.scalar(select(_C.credentials).where(_C.id == connection_id))
        return Success(sealed)

    @classified
    async def sealed_page(
        self, *, after: UUID | None, limit: int
    ) -> Result[Sequence[SealedCredential], Error]:
        query = select(_C.id, _C.credentials).where(_C.credentials.is_not(None))
        if after is not None:
            query = query.where(_C.id > after)
        rows = (await self._session.execute(query.order_by(_C.id).limit(limit))).all()
        return Success([SealedCredential(row.id, row.credentials) for row in rows])

    @classified
    async def spend_requests(
        self, connection_id: UUID, *, day: date, count: int, limit: int
    ) -> Result[bool, Error]:
        # One conditional UPDATE: the check and the count cannot be split by another sync.
        same_day = _C.requests_day == day
        changed = await self._session.execute(
            update(_C)
            .where(
                _C.id == connection_id,
                or_(
                    _C.requests_day.is_(None),
                    _C.requests_day != day,
                    _C.requests_count + count <= limit,
                ),
            )
            .values(
                requests_day=day,
                requests_count=case((same_day, _C.requests_count + count), else_=count),
            )
            .execution_options(synchronize_session=False)
        )
        return Success(bool(getattr(changed, "rowcount", 0)) and count <= limit)

    @classified
    async def save_outcome(self, connection_id: UUID, outcome: SyncOutcome) -> Result[None, Error]:
        await self._update(
            connection_id,
            status=outcome.status,
            attention_message=outcome.attention_message,
            last_sync_at=outcome.last_sync_at,
            last_sync_attempt_at=outcome.last_sync_attempt_at,
            next_sync_at=outcome.next_sync_at,
            sync_failures=outcome.sync_failures,
            updated_at=outcome.last_sync_attempt_at,
            version=_C.version + 1,
        )
        return Success(None)

    @classified
    async def live_connections(self) -> Result[Sequence[DueSync], Error]:
        query = select(_C.id, _C.user_id).where(_live()).order_by(_C.next_sync_at, _C.id)
        rows = (await self._session.execute(query)).all()
        return Success([DueSync(row.id, row.user_id) for row in rows])

    @classified
    async def claim_due(
        self, *, worker: str, now: datetime, lease_until: datetime, limit: int
    ) -> Result[Sequence[DueSync], Error]:
        query = (
            select(_C.id, _C.user_id)
            .where(_live(), _C.next_sync_at <= now, _unclaimed(now))
            .order_by(_C.next_sync_at)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # Workers skip each other's candidates instead of queueing behind them.
            query = query.with_for_update(skip_locked=True, of=_C)
        rows = (await self._session.execute(query)).all()
        claimed: list[DueSync] = []
        for row in rows:
            if await self._claim(row.id, worker, now, lease_until):
                claimed.append(DueSync(row.id, row.user_id))
        return Success(claimed)

    async def _claim(
        self, connection_id: UUID, worker: str, now: datetime, lease_until: datetime
    ) -> bool:
        result = await self._session.execute(
            update(_C)
            .where(_C.id == connection_id, _unclaimed(now))
            .values(sync_claimed_by=worker, sync_claimed_until=lease_until)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    @classified
    async def claim(
        self, connection_id: UUID, *, worker: str, now: datetime, lease_until: datetime
    ) -> Result[bool, Error]:
        return Success(await self._claim(connection_id, worker, now, lease_until))

    @classified
    async def release(self, connection_id: UUID, *, worker: str) -> Result[None, Error]:
        await self._session.execute(
            update(_C)
            .where(_C.id == connection_id, _C.sync_claimed_by == worker)
            .values(sync_claimed_by=None, sync_claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        return Success(None)

    @classified
    async def renew(
        self, connection_id: UUID, *, worker: str, lease_until: datetime
    ) -> Result[bool, Error]:
        result = await self._session.execute(
            update(_C)
            .where(and_(_C.id == connection_id, _C.sync_claimed_by == worker))
            .values(sync_claimed_until=lease_until)
            .execution_options(synchronize_session=False)
        )
        return Success(bool(getattr(result, "rowcount", 0)))
