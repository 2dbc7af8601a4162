"""SQLAlchemy adapters of the connection, account and transaction ports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.entities import Transaction
from dashtam.domain.transactions.repository import (
    TransactionCursor,
    TransactionQuery,
    UpsertCounts,
)
from dashtam.infrastructure.errors import DB_ERRORS, classify
from dashtam.infrastructure.persistence.base import Base
from dashtam.infrastructure.persistence.models.finance import (
    AccountModel,
    BalanceSnapshotModel,
    ConnectionModel,
    TransactionModel,
)
from dashtam.infrastructure.persistence.sql import LIKE_ESCAPE, contains_pattern

_COMPARED = ("amount", "posted_on", "description", "payee", "memo", "status")


def _insert(session: AsyncSession) -> Callable[[type[Base]], Any]:
    """The dialect's INSERT, which knows ON CONFLICT on both PostgreSQL and SQLite."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class SqlConnectionRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    async def add(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        model = ConnectionModel(
            id=connection.id,
            user_id=connection.user_id,
            provider=connection.provider.value,
            label=connection.label,
            status=connection.status.value,
            last_import_at=connection.last_import_at,
            created_at=connection.created_at,
            updated_at=connection.updated_at,
        )
        self._session.add(model)
        try:
            await self._session.flush()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(model.to_entity())

    async def get(self, connection_id: UUID) -> Result[ProviderConnection | None, Error]:
        try:
            model = await self._session.get(ConnectionModel, connection_id)
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(model.to_entity() if model else None)

    async def update(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        try:
            model = await self._session.get(ConnectionModel, connection.id)
            if model is None:
                return Failure(NotFoundError("connection not found"))
            model.label = connection.label
            model.status = connection.status.value
            model.last_import_at = connection.last_import_at
            await self._session.flush()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(model.to_entity())

    async def record_import(self, connection_id: UUID, *, now: datetime) -> Result[None, Error]:
        """Stamp the last import time (unversioned: concurrent imports both succeed)."""
        try:
            await self._session.execute(
                update(ConnectionModel)
                .where(ConnectionModel.id == connection_id)
                .values(last_import_at=now, updated_at=now, version=ConnectionModel.version + 1)
                .execution_options(synchronize_session=False)
            )
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(None)

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[ProviderConnection], Error]:
        query = (
            select(ConnectionModel)
            .where(ConnectionModel.user_id == user_id)
            .order_by(ConnectionModel.id)
        )
        try:
            rows = (await self._session.scalars(query)).all()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success([row.to_entity() for row in rows])


class SqlAccountRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    async def upsert(self, data: AccountUpsert) -> Result[tuple[Account, bool], Error]:
        values = {
            "id": new_id(),
            "user_id": data.user_id,
            "connection_id": data.connection_id,
            "provider_account_id": data.provider_account_id,
            "name": data.name,
            "account_type": data.account_type.value,
            "currency": data.currency,
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "version": 1,
        }
        try:
            # Concurrent imports of one file may both try to create the account: one wins.
            inserted = await self._session.execute(
                _insert(self._session)(AccountModel)
                .values(**values)
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
                        or_(
                            AccountModel.balance_as_of.is_(None),
                            AccountModel.balance_as_of <= as_of,
                        ),
                    )
                    .values(
                        balance=data.balance,
                        balance_as_of=as_of,
                        updated_at=utcnow(),
                        version=AccountModel.version + 1,
                    )
                    .execution_options(synchronize_session=False)
                )
            model = (
                await self._session.scalars(
                    select(AccountModel).where(*where).execution_options(populate_existing=True)
                )
            ).one()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success((model.to_entity(), created))

    async def get(self, account_id: UUID) -> Result[Account | None, Error]:
        try:
            model = await self._session.get(AccountModel, account_id)
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(model.to_entity() if model else None)

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[Account], Error]:
        query = (
            select(AccountModel).where(AccountModel.user_id == user_id).order_by(AccountModel.id)
        )
        try:
            rows = (await self._session.scalars(query)).all()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success([row.to_entity() for row in rows])

    async def delete(self, account_id: UUID) -> Result[None, Error]:
        try:
            await self._session.execute(delete(AccountModel).where(AccountModel.id == account_id))
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(None)

    async def delete_for_connection(self, connection_id: UUID) -> Result[int, Error]:
        try:
            result = await self._session.execute(
                delete(AccountModel)
                .where(AccountModel.connection_id == connection_id)
                .returning(AccountModel.id)
            )
            count = len(result.all())
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(count)

    async def add_snapshot(self, snapshot: BalanceSnapshot) -> Result[bool, Error]:
        try:
            result = await self._session.execute(
                _insert(self._session)(BalanceSnapshotModel)
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
            added = result.scalar_one_or_none() is not None
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success(added)

    async def balance_history(self, account_id: UUID) -> Result[Sequence[BalanceSnapshot], Error]:
        query = (
            select(BalanceSnapshotModel)
            .where(BalanceSnapshotModel.account_id == account_id)
            .order_by(BalanceSnapshotModel.as_of)
        )
        try:
            rows = (await self._session.scalars(query)).all()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success([row.to_entity() for row in rows])


class SqlTransactionRepository:
    def __init__(self, *, session: AsyncSession) -> None:
        self._session = session

    async def upsert_batch(
        self, account_id: UUID, currency: str, batch: Sequence[ParsedTransaction]
    ) -> Result[UpsertCounts, Error]:
        if not batch:
            return Success(UpsertCounts())
        # A file may repeat an id (some banks do): the last occurrence describes it best.
        incoming = {item.provider_transaction_id: item for item in batch}
        try:
            existing = {
                row.provider_transaction_id: row
                for row in (
                    await self._session.execute(
                        select(
                            TransactionModel.id,
                            TransactionModel.provider_transaction_id,
                            *(getattr(TransactionModel, name) for name in _COMPARED),
                        ).where(
                            TransactionModel.account_id == account_id,
                            TransactionModel.provider_transaction_id.in_(list(incoming)),
                        )
                    )
                ).all()
            }
            now = utcnow()
            new_rows = [
                _row(account_id, currency, item, now)
                for key, item in incoming.items()
                if key not in existing
            ]
            changed = [
                {"id": existing[key].id, **_values(item), "updated_at": now}
                for key, item in incoming.items()
                if key in existing and _differs(existing[key], item)
            ]
            inserted = 0
            if new_rows:
                # executemany of one multi-row INSERT ... ON CONFLICT DO NOTHING: a row another
                # import inserted meanwhile is skipped, never duplicated.
                result = await self._session.execute(
                    _insert(self._session)(TransactionModel)
                    .on_conflict_do_nothing(
                        index_elements=["account_id", "provider_transaction_id"]
                    )
                    .returning(TransactionModel.id),
                    new_rows,
                )
                inserted = len(result.all())
            if changed:
                await self._session.execute(
                    update(TransactionModel).execution_options(synchronize_session=False),
                    changed,
                )
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        unchanged = len(incoming) - len(new_rows) - len(changed)
        return Success(
            UpsertCounts(
                new=inserted, updated=len(changed), unchanged=unchanged + len(new_rows) - inserted
            )
        )

    async def search(
        self, query: TransactionQuery, *, after: TransactionCursor | None, limit: int
    ) -> Result[Sequence[Transaction], Error]:
        statement = (
            select(TransactionModel)
            .join(AccountModel, AccountModel.id == TransactionModel.account_id)
            .where(AccountModel.user_id == query.user_id)
            .order_by(TransactionModel.posted_on.desc(), TransactionModel.id.desc())
            .limit(limit)
        )
        if query.account_id is not None:
            statement = statement.where(TransactionModel.account_id == query.account_id)
        if query.posted_from is not None:
            statement = statement.where(TransactionModel.posted_on >= query.posted_from)
        if query.posted_to is not None:
            statement = statement.where(TransactionModel.posted_on <= query.posted_to)
        if query.min_amount is not None:
            statement = statement.where(TransactionModel.amount >= query.min_amount)
        if query.max_amount is not None:
            statement = statement.where(TransactionModel.amount <= query.max_amount)
        if query.text:
            needle = contains_pattern(query.text)
            sqlite = self._session.get_bind().dialect.name == "sqlite"
            statement = statement.where(
                or_(
                    *(
                        _icontains(column, needle, sqlite=sqlite)
                        for column in (
                            TransactionModel.description,
                            TransactionModel.payee,
                            TransactionModel.memo,
                        )
                    )
                )
            )
        if after is not None:
            statement = statement.where(
                tuple_(TransactionModel.posted_on, TransactionModel.id)
                < tuple_(after.posted_on, after.id)
            )
        try:
            rows = (await self._session.scalars(statement)).all()
        except DB_ERRORS as exc:
            return Failure(classify(exc))
        return Success([row.to_entity() for row in rows])


def _values(item: ParsedTransaction) -> dict[str, object]:
    return {
        "amount": item.amount,
        "posted_on": item.posted_on,
        "description": item.description,
        "payee": item.payee,
        "memo": item.memo,
        "status": item.status.value,
    }


def _row(
    account_id: UUID, currency: str, item: ParsedTransaction, now: datetime
) -> dict[str, object]:
    return {
        "id": new_id(),
        "account_id": account_id,
        "provider_transaction_id": item.provider_transaction_id,
        "currency": currency,
        "created_at": now,
        "updated_at": now,
        **_values(item),
    }


def _differs(row: object, item: ParsedTransaction) -> bool:
    stored = {name: getattr(row, name) for name in _COMPARED}
    return stored != _values(item)


def _icontains(column: Any, needle: str, *, sqlite: bool) -> ColumnElement[bool]:
    """ILIKE; on SQLite through ``dashtam_fold`` (database.py), its lower() being ASCII-only."""
    if sqlite:
        result: ColumnElement[bool] = func.dashtam_fold(column).like(
            func.dashtam_fold(needle), escape=LIKE_ESCAPE
        )
        return result
    return column.ilike(needle, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
