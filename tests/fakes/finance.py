"""In-memory connection, account and transaction repositories (the SQL adapters' twins).

The three share one ``FinanceTables``, as the SQL adapters share one session: writes are staged
over the store's committed tables and published by ``apply_staged()`` (the fake commit), and a
failed write poisons all three until the transaction is rolled back. Foreign keys between the
finance tables are enforced and cascade (connection -> accounts -> transactions, snapshots);
the user foreign key is not (unit tests need no user rows).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

from dashtam.core.clock import utcnow
from dashtam.core.errors import Error, NotFoundError
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.accounts.entities import Account, BalanceSnapshot
from dashtam.domain.accounts.repository import AccountUpsert
from dashtam.domain.imports.statement import ParsedTransaction
from dashtam.domain.providers.entities import ProviderConnection
from dashtam.domain.transactions.entities import Transaction, TransactionStatus
from dashtam.domain.transactions.repository import (
    TransactionCursor,
    TransactionQuery,
    UpsertCounts,
)
from tests.fakes.finance_tables import (
    PLACES,
    FinanceTables,
    aborted,
    duplicate,
    integrity_error,
    money,
    stale_version,
    utc,
)
from tests.fakes.transaction_links import FakeTransactionLinks, transfer_wanted


class _FinanceRepository:
    def __init__(self, *, tables: FinanceTables) -> None:
        self.tables = tables


class FakeConnectionRepository(_FinanceRepository):
    async def add(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        if (refused := self.tables.refuse("connections.add")) is not None:
            return Failure(refused)
        if self.tables.connections.get(connection.id) is not None:
            return self.tables.poison(duplicate())
        stored = replace(
            connection,
            last_import_at=utc(connection.last_import_at),
            created_at=connection.created_at.astimezone(UTC),
            updated_at=connection.updated_at.astimezone(UTC),
            version=1,  # the ORM starts every row at version 1
        )
        self.tables.connections.put(stored.id, stored)
        return Success(replace(stored))

    async def get(self, connection_id: UUID) -> Result[ProviderConnection | None, Error]:
        if (refused := self.tables.refuse("connections.get")) is not None:
            return Failure(refused)
        current = self.tables.connections.get(connection_id)
        return Success(replace(current) if current is not None else None)

    async def get_owned(
        self, user_id: UUID, connection_id: UUID
    ) -> Result[ProviderConnection | None, Error]:
        if (refused := self.tables.refuse("connections.get_owned")) is not None:
            return Failure(refused)
        current = self.tables.connections.get(connection_id)
        if current is None or current.user_id != user_id:
            return Success(None)
        return Success(replace(current))

    async def update(self, connection: ProviderConnection) -> Result[ProviderConnection, Error]:
        if (refused := self.tables.refuse("connections.update")) is not None:
            return Failure(refused)
        current = self.tables.connections.get(connection.id)
        if current is None:
            return Failure(NotFoundError("connection not found"))
        if current.version != connection.version:
            return Failure(stale_version("connection"))
        # Only the columns ``ConnectionModel.apply`` copies.
        changed = replace(
            current,
            label=connection.label,
            status=connection.status,
            last_import_at=utc(connection.last_import_at),
            attention_message=connection.attention_message,
            last_sync_at=utc(connection.last_sync_at),
            last_sync_attempt_at=utc(connection.last_sync_attempt_at),
            next_sync_at=utc(connection.next_sync_at),
            sync_failures=connection.sync_failures,
        )
        if changed == current:
            return Success(replace(current))  # no UPDATE sent: version and updated_at stay
        stored = replace(changed, version=current.version + 1, updated_at=utcnow())
        self.tables.connections.put(stored.id, stored)
        return Success(replace(stored))

    async def record_import(self, connection_id: UUID, *, now: datetime) -> Result[None, Error]:
        if (refused := self.tables.refuse("connections.record_import")) is not None:
            return Failure(refused)
        current = self.tables.connections.get(connection_id)
        if current is not None:  # a plain UPDATE ... WHERE id: no row, no error
            stamp = now.astimezone(UTC)
            self.tables.connections.put(
                connection_id,
                replace(
                    current, last_import_at=stamp, updated_at=stamp, version=current.version + 1
                ),
            )
        return Success(None)

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[ProviderConnection], Error]:
        if (refused := self.tables.refuse("connections.list_for_user")) is not None:
            return Failure(refused)
        rows = [c for c in self.tables.connections.rows() if c.user_id == user_id]
        return Success([replace(c) for c in sorted(rows, key=lambda c: c.id)])


class FakeAccountRepository(_FinanceRepository):
    async def upsert(self, data: AccountUpsert) -> Result[tuple[Account, bool], Error]:
        if (refused := self.tables.refuse("accounts.upsert")) is not None:
            return Failure(refused)
        balance = money(data.balance) if data.balance is not None else None
        if data.balance is not None and balance is None:
            return self.tables.poison(aborted())
        current = next(
            (
                a
                for a in self.tables.accounts.rows()
                if (a.connection_id, a.provider_account_id)
                == (data.connection_id, data.provider_account_id)
            ),
            None,
        )
        created = current is None
        if current is None:
            if self.tables.connections.get(data.connection_id) is None:
                return self.tables.poison(integrity_error())
            # INSERT ... ON CONFLICT DO NOTHING: an existing account keeps name, type, currency.
            now = utcnow()
            current = Account(
                user_id=data.user_id,
                connection_id=data.connection_id,
                provider_account_id=data.provider_account_id,
                name=data.name,
                account_type=data.account_type,
                currency=data.currency,
                created_at=now,
                updated_at=now,
            )
        if balance is not None:
            as_of = (data.balance_as_of or utcnow()).astimezone(UTC)
            # Only forward in time: an older statement imported later keeps the newer balance.
            if current.balance_as_of is None or current.balance_as_of <= as_of:
                current = replace(
                    current,
                    balance=balance,
                    balance_as_of=as_of,
                    updated_at=utcnow(),
                    version=current.version + 1,
                )
        available = money(data.available_balance) if data.available_balance is not None else None
        if available is not None:
            moment = (data.available_balance_as_of or utcnow()).astimezone(UTC)
            since = current.available_balance_as_of
            if since is None or since <= moment:
                current = replace(
                    current,
                    available_balance=available,
                    available_balance_as_of=moment,
                    updated_at=utcnow(),
                    version=current.version + 1,
                )
        self.tables.accounts.put(current.id, current)
        return Success((replace(current), created))

    async def get(self, account_id: UUID) -> Result[Account | None, Error]:
        if (refused := self.tables.refuse("accounts.get")) is not None:
            return Failure(refused)
        current = self.tables.accounts.get(account_id)
        return Success(replace(current) if current is not None else None)

    async def get_owned(self, user_id: UUID, account_id: UUID) -> Result[Account | None, Error]:
        if (refused := self.tables.refuse("accounts.get_owned")) is not None:
            return Failure(refused)
        current = self.tables.accounts.get(account_id)
        if current is None or current.user_id != user_id:
            return Success(None)
        return Success(replace(current))

    async def list_for_user(self, user_id: UUID) -> Result[Sequence[Account], Error]:
        if (refused := self.tables.refuse("accounts.list_for_user")) is not None:
            return Failure(refused)
        rows = [a for a in self.tables.accounts.rows() if a.user_id == user_id]
        return Success([replace(a) for a in sorted(rows, key=lambda a: a.id)])

    async def delete(self, account_id: UUID) -> Result[None, Error]:
        if (refused := self.tables.refuse("accounts.delete")) is not None:
            return Failure(refused)
        if self.tables.accounts.get(account_id) is not None:
            self.tables.delete_account(account_id)
        return Success(None)

    async def delete_for_connection(self, connection_id: UUID) -> Result[int, Error]:
        if (refused := self.tables.refuse("accounts.delete_for_connection")) is not None:
            return Failure(refused)
        doomed = [a.id for a in self.tables.accounts.rows() if a.connection_id == connection_id]
        for account_id in doomed:
            self.tables.delete_account(account_id)
        return Success(len(doomed))

    async def add_snapshot(self, snapshot: BalanceSnapshot) -> Result[bool, Error]:
        if (refused := self.tables.refuse("accounts.add_snapshot")) is not None:
            return Failure(refused)
        balance = money(snapshot.balance)
        if balance is None:
            return self.tables.poison(aborted())
        if self.tables.accounts.get(snapshot.account_id) is None:
            return self.tables.poison(integrity_error())
        as_of = snapshot.as_of.astimezone(UTC)
        # ON CONFLICT (account_id, as_of) DO NOTHING: one snapshot per account and time.
        if any(
            (s.account_id, s.as_of) == (snapshot.account_id, as_of)
            for s in self.tables.snapshots.rows()
        ):
            return Success(False)
        if self.tables.snapshots.get(snapshot.id) is not None:
            return self.tables.poison(duplicate())
        stored = replace(
            snapshot, balance=balance, as_of=as_of, created_at=snapshot.created_at.astimezone(UTC)
        )
        self.tables.snapshots.put(stored.id, stored)
        return Success(True)

    async def balance_history(self, account_id: UUID) -> Result[Sequence[BalanceSnapshot], Error]:
        if (refused := self.tables.refuse("accounts.balance_history")) is not None:
            return Failure(refused)
        rows = [s for s in self.tables.snapshots.rows() if s.account_id == account_id]
        return Success(sorted(rows, key=lambda s: s.as_of))


class FakeTransactionRepository(FakeTransactionLinks, _FinanceRepository):
    async def remove_pending(
        self, account_id: UUID, *, keep: Collection[str]
    ) -> Result[int, Error]:
        if (refused := self.tables.refuse("transactions.remove_pending")) is not None:
            return Failure(refused)
        gone = [
            t
            for t in self.tables.transactions.rows()
            if t.account_id == account_id
            and t.status is TransactionStatus.PENDING
            and t.provider_transaction_id not in keep
        ]
        for row in gone:
            self.tables.transactions.put(row.id, None)
            # A partner's link to a deleted row is cleared (ON DELETE SET NULL).
            for other in list(self.tables.transactions.rows()):
                if other.transfer_id == row.id:
                    self.tables.transactions.put(other.id, replace(other, transfer_id=None))
        return Success(len(gone))

    async def upsert_batch(
        self,
        account_id: UUID,
        currency: str,
        batch: Sequence[ParsedTransaction],
        *,
        statement_as_of: datetime | None = None,
        may_be_stored: Collection[str] | None = None,  # a hint: the fake looks everything up
        written: set[str] | None = None,
    ) -> Result[UpsertCounts, Error]:
        if not batch:
            return Success(UpsertCounts())  # the SQL adapter returns before touching the session
        if (refused := self.tables.refuse("transactions.upsert_batch")) is not None:
            return Failure(refused)
        # A file may repeat an id: the last occurrence describes it best.
        incoming = {item.provider_transaction_id: item for item in batch}
        if any(money(item.amount) is None for item in incoming.values()):
            return self.tables.poison(aborted())
        if self.tables.accounts.get(account_id) is None:
            return self.tables.poison(integrity_error())
        existing = {
            t.provider_transaction_id: t
            for t in self.tables.transactions.rows()
            if t.account_id == account_id and t.provider_transaction_id in incoming
        }
        new = updated = outdated = 0
        for key, item in incoming.items():
            row = existing.get(key)
            if row is not None and _newer(row.statement_as_of, statement_as_of):
                outdated += 1  # a newer statement's version stays
                continue
            if row is not None and _columns(row) == _columns(item):
                continue
            stored = _written(row, account_id, currency, item, statement_as_of)
            new, updated = (new + 1, updated) if row is None else (new, updated + 1)
            self.tables.transactions.put(stored.id, stored)
            if written is not None:
                written.add(key)
        unchanged = len(incoming) - new - updated - outdated
        return Success(UpsertCounts(new, updated, unchanged, outdated))

    async def search(
        self, query: TransactionQuery, *, after: TransactionCursor | None, limit: int
    ) -> Result[Sequence[Transaction], Error]:
        if (refused := self.tables.refuse("transactions.search")) is not None:
            return Failure(refused)
        owned = {a.id for a in self.tables.accounts.rows() if a.user_id == query.user_id}
        needle = query.text.lower() if query.text else None
        matches = [
            t
            for t in self.tables.transactions.rows()
            if t.account_id in owned
            and (query.account_id is None or t.account_id == query.account_id)
            and (query.posted_from is None or t.posted_on >= query.posted_from)
            and (query.posted_to is None or t.posted_on <= query.posted_to)
            and (query.min_amount is None or t.amount >= query.min_amount)
            and (query.max_amount is None or t.amount <= query.max_amount)
            # ILIKE '%text%' with % and _ escaped: a plain case-insensitive substring.
            and (needle is None or any(needle in f.lower() for f in _texts(t)))
            and transfer_wanted(t, query.transfers)
            and (after is None or (t.posted_on, t.id) < (after.posted_on, after.id))
        ]
        matches.sort(key=lambda t: (t.posted_on, t.id), reverse=True)
        return Success(matches[: max(limit, 0)])


def _columns(item: ParsedTransaction | Transaction) -> tuple[object, ...]:
    """The columns an import compares (``_COMPARED`` of the SQL adapter), as stored."""
    return (
        item.amount.quantize(PLACES),
        item.posted_on,
        item.description,
        item.payee,
        item.memo,
        item.status,
        item.check_number[:32] if item.check_number else None,
        item.reference[:64] if item.reference else None,
    )


def _written(
    row: Transaction | None,
    account_id: UUID,
    currency: str,
    item: ParsedTransaction,
    statement_as_of: datetime | None,
) -> Transaction:
    """A new row, or ``row`` updated; a stored row keeps its id, currency and created_at."""
    base = row or Transaction(
        account_id=account_id,
        provider_transaction_id=item.provider_transaction_id,
        amount=item.amount,
        currency=currency,
        posted_on=item.posted_on,
        description=item.description,
        created_at=utcnow(),
    )
    return replace(
        base,
        amount=item.amount.quantize(PLACES),
        posted_on=item.posted_on,
        description=item.description,
        payee=item.payee,
        memo=item.memo,
        status=item.status,
        check_number=item.check_number[:32] if item.check_number else None,
        reference=item.reference[:64] if item.reference else None,
        statement_as_of=statement_as_of or base.statement_as_of,
    )


def _newer(stored: datetime | None, incoming: datetime | None) -> bool:
    return stored is not None and incoming is not None and stored > incoming


def _texts(transaction: Transaction) -> Iterator[str]:
    for text in (transaction.description, transaction.payee, transaction.memo):
        if text is not None:
            yield text
