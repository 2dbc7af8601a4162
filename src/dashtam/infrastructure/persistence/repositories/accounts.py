"""SQLAlchemy adapter of the ``AccountRepository`` port (accounts and their balance history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error
from dashtam.core.ids import new_id
from dashtam.core.result import Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.infrastructure.persistence.boundary import classified
from dashtam.infrastructure.persistence.models.finance import AccountModel, BalanceSnapshotModel
from dashtam.infrastructure.persistence.repositories.dialect import insert_for
from dashtam.infrastructure.persistence.rows import as_model, columns_of

# Built once: every read of one account runs it (see persistence/rows.py). The table's
# columns, not the ORM attributes, also in WHERE: one ORM attribute anywhere makes it an ORM
# statement, executed through the ORM's loading.
_ACCOUNTS = cast(Table, AccountModel.__table__)
_OWNED_ACCOUNT = select(*columns_of(AccountModel)).where(
    _ACCOUNTS.c.id == bindparam("account_id"), _ACCOUNTS.c.user_id == bindparam("user_id")
)


class SqlAccountRepository:
    """Written by imports (upserts, never a read-modify-write); never commits."""

    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    @classified
    async def upsert(self, data: AccountUpsert) -> Result[tuple[Account, bool], Error]:
        now = utcnow()
        # Concurrent imports of one file may both try to create the account: one wins.
        inserted = await self._session.execute(
            insert_for(self._session)(AccountModel)
            .values(
                id=new_id(),
                user_id=data.user_id,
                connection_id=data.connection_id,
                provider_account_id=data.provider_account_id,
                name=data.name,
                account_type=data.account_type.value,
                currency=data.currency,
                created_at=now,
                updated_at=now,
                version=1,
            )
            .on_conflict_do_nothing(index_elements=["connection_id", "provider_account_id"])
            .returning(AccountModel.id)
        )
        created = inserted.scalar_one_or_none() is not None
        where = [
            AccountModel.connection_id == data.connection_id,
            AccountModel.provider_account_id == data.provider_account_id,
        ]
        if data.balance is not None:
            as_of = data.balance_as_of or utcnow()
            # A plain UPDATE, not the ORM's versioned one: concurrent imports of the same
            # account must both succeed. The condition keeps an older statement imported
            # later from rolling the balance back.
            await self._session.execute(
                update(AccountModel)
                .where(
                    *where,
                    or_(AccountModel.balance_as_of.is_(None), AccountModel.balance_as_of <= as_of),
                )
                .values(
                    balance=data.balance,
                    balance_as_of=as_of,
                    updated_at=utcnow(),
                    version=AccountModel.version + 1,
                )
                .execution_options(synchronize_session=False)
            )
        if data.available_balance is not None:
            await self._available(where, data.available_balance, data.available_balance_as_of)
        model = (
            await self._session.scalars(
                select(AccountModel).where(*where).execution_options(populate_existing=True)
            )
        ).one()
        return Success((model.to_entity(), created))

    async def _available(
        self, where: list[ColumnElement[bool]], balance: Decimal, as_of: datetime | None
    ) -> None:
        """Like the ledger balance: only forward in time."""
        moment = as_of or utcnow()
        await self._session.execute(
            update(AccountModel)
            .where(
                *where,
                or_(
                    AccountModel.available_balance_as_of.is_(None),
                    AccountModel.available_balance_as_of <= moment,
                ),
            )
            .values(
                available_balance=balance,
                available_balance_as_of=moment,
                updated_at=utcnow(),
                version=AccountModel.version + 1,
            )
            .execution_options(synchronize_session=False)
        )

    @classified
    async def get(self, account_id: UUID) -> Result[Account | None, Error]:
        model = await self._session.get(AccountModel, account_id)
        return Success(model.to_entity() if model is not None else None)

    @classified
    async def get_owned(self, user_id: UUID, account_id: UUID) -> Result[Account | None, Error]:
        # One query for both conditions: "someone else's" and "missing" look the same.
        found = await self._session.execute(
            _OWNED_ACCOUNT, {"account_id": account_id, "user_id": user_id}
        )
        row = found.one_or_none()
        if row is None:
            return Success(None)
        return Success(AccountModel.to_entity(as_model(AccountModel, row._mapping)))

    @classified
    async def list_for_user(self, user_id: UUID) -> Result[Sequence[Account], Error]:
        query = (
            select(AccountModel).where(AccountModel.user_id == user_id).order_by(AccountModel.id)
        )
        rows = (await self._session.scalars(query)).all()
        return Success([row.to_entity() for row in rows])

    @classified
    async def delete(self, account_id: UUID) -> Result[None, Error]:
        await self._session.execute(delete(AccountModel).where(AccountModel.id == account_id))
        return Success(None)

    @classified
    async def delete_for_connection(self, connection_id: UUID) -> Result[int, Error]:
        result = await self._session.execute(
            delete(AccountModel)
            .where(AccountModel.connection_id == connection_id)
            .returning(AccountModel.id)
        )
        return Success(len(result.all()))

    @classified
    async def add_snapshot(self, snapshot: BalanceSnapshot) -> Result[bool, Error]:
        result = await self._session.execute(
            insert_for(self._session)(BalanceSnapshotModel)
            .values(
                id=snapshot.id,
                account_id=snapshot.account_id,
                balance=snapshot.balance,
                as_of=snapshot.as_of,
                created_at=snapshot.created_at,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "as_of"])
            .returning(BalanceSnapshotModel.id)
        )
        return Success(result.scalar_one_or_none() is not None)

    @classified
    async def balance_history(self, account_id: UUID) -> Result[Sequence[BalanceSnapshot], Error]:
        query = (
            select(BalanceSnapshotModel)
            .where(BalanceSnapshotModel.account_id == account_id)
            .order_by(BalanceSnapshotModel.as_of)
        )
        rows = (await self._session.scalars(query)).all()
        return Success([row.to_entity() for row in rows])
