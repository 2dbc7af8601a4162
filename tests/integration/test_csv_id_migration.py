"""Migration 0008: CSV rows stored without a bank id get the ids today's parser derives, so a
file imported before the upgrade adds nothing when imported again after it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from dashtam.core.ids import new_id
from dashtam.infrastructure.importers.csv_ids import DerivedIds
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.types import DecimalAmount

BEFORE = "0007_outbox_backoff"
AFTER = "0008_statement_details"
NOW = datetime(2026, 11, 30, tzinfo=UTC)

_users = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("password_hash", sa.String()),
    sa.column("role", sa.String()),
    sa.column("is_active", sa.Boolean()),
)
_connections = sa.table(
    "provider_connections",
    *(sa.column(name) for name in ("provider", "label", "status")),
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
)
_accounts = sa.table(
    "accounts",
    *(sa.column(name) for name in ("provider_account_id", "name", "account_type", "currency")),
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("connection_id", sa.Uuid()),
)
_transactions = sa.table(
    "transactions",
    *(sa.column(name) for name in ("provider_transaction_id", "currency", "description")),
    sa.column("status"),
    sa.column("id", sa.Uuid()),
    sa.column("account_id", sa.Uuid()),
    sa.column("amount", DecimalAmount()),
    sa.column("posted_on", sa.Date()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)

# (old id, day, amount, description): two identical charges, one re-cased text, a bank id.
ROWS = [
    ("csv:old-1", 2, "-3", "Blue  Bottle"),
    ("csv:old-2", 2, "-3.00", "blue bottle"),
    ("csv:old-3", 3, "-12.5", "Rent share"),
    ("MONZO-tx_0001", 3, "-4", "Bakery"),
]


async def _seed(url: str) -> None:
    user, connection, account = new_id(), new_id(), new_id()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as db:
            await db.execute(
                sa.insert(_users).values(
                    id=user, email="a@example.com", password_hash="x", role="user", is_active=True
                )
            )
            await db.execute(
                sa.insert(_connections).values(
                    id=connection, user_id=user, provider="csv-file", label="b", status="active"
                )
            )
            await db.execute(
                sa.insert(_accounts).values(
                    id=account,
                    user_id=user,
                    connection_id=connection,
                    provider_account_id="joint",
                    name="Joint",
                    account_type="checking",
                    currency="USD",
                )
            )
            for position, (old, day, amount, text) in enumerate(ROWS):
                await db.execute(
                    sa.insert(_transactions).values(
                        id=new_id(),
                        account_id=account,
                        provider_transaction_id=old,
                        amount=Decimal(amount),
                        currency="USD",
                        posted_on=date(2026, 11, day),
                        description=text,
                        status="posted",
                        created_at=NOW.replace(second=position),
                        updated_at=NOW,
                    )
                )
    finally:
        await engine.dispose()


async def _ids(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as db:
            query = sa.select(_transactions.c.provider_transaction_id).order_by(
                _transactions.c.created_at
            )
            return list((await db.scalars(query)).all())
    finally:
        await engine.dispose()


async def test_stored_csv_rows_get_the_ids_the_parser_now_derives(
    empty_database_url: str,
) -> None:
    migrator.upgrade(empty_database_url, BEFORE)
    await _seed(empty_database_url)

    migrator.upgrade(empty_database_url, AFTER)

    derive = DerivedIds("joint")
    expected = [
        derive.next_id(date(2026, 11, 2), Decimal("-3.00"), "BLUE BOTTLE"),
        derive.next_id(date(2026, 11, 2), Decimal("-3"), "blue  bottle"),
        derive.next_id(date(2026, 11, 3), Decimal("-12.50"), "Rent share"),
        "MONZO-tx_0001",  # a bank's own id is never touched
    ]
    assert await _ids(empty_database_url) == expected
    assert expected[0] != expected[1], "identical charges stay two transactions"
    migrator.downgrade(empty_database_url, BEFORE)
    assert await _ids(empty_database_url) == expected
