"""SQLAlchemy adapter of the ``ConnectionRepository`` port."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.finance import ConnectionModel

_STALE = ConflictError(
    "the connection was changed by someone else; reload and retry", code="stale_version"
)


class SqlConnectionRepository:
    """Flushes so that constraint errors surface here, typed; never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def add(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        model = ConnectionModel.from_entity(connection)
        self._session.add(model)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def get(self, connection_id: UUID) -> Result[ProviderConnection | None, Error]:
        model = await self._session.get(ConnectionModel, connection_id)
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def get_owned(
        self, user_id: UUID, connection_id: UUID
    ) -> Result[ProviderConnection | None, Error]:
        # One query for both conditions: "someone else's" and "missing" look the same.
        model = (
            await self._session.scalars(
                select(ConnectionModel).where(
                    ConnectionModel.id == connection_id, ConnectionModel.user_id == user_id
                )
            )
        ).one_or_none()
        return Success(model.to_entity() if model is not None else None)

    @classified(stale_version=_STALE)
    async def update(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        model = await self._session.get(ConnectionModel, connection.id)
        if model is None:
            return Failure(NotFoundError("connection not found"))
        if model.version != connection.version:
            return Failure(_STALE)
        model.apply(connection)
        await self._session.flush()
        return Success(model.to_entity())

    @classified
    async def record_import(self, connection_id: UUID, *, now: datetime) -> Result[None, Error]:
        """Stamp the last import time (unversioned: concurrent imports both succeed)."""
        await self._session.execute(
            update(ConnectionModel)
            .where(ConnectionModel.id == connection_id)
            .values(last_import_at=now, updated_at=now, version=ConnectionModel.version + 1)
            .execution_options(synchronize_session=False)
        )
        return Success(None)

    @classified
    async def list_for_user(self, user_id: UUID) -> Result[Sequence[ProviderConnection], Error]:
        query = (
            select(ConnectionModel)
            .where(ConnectionModel.user_id == user_id)
            .order_by(ConnectionModel.id)
        )
        rows = (await self._session.scalars(query)).all()
        return Success([row.to_entity() for row in rows])
