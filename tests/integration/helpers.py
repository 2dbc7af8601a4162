"""Helpers for integration tests: real database faults, no mocks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.sql.selectable import FromClause

from dashtam.infrastructure.persistence.database import Database


async def install_failing_insert_trigger(database: Database, table: str) -> None:
    """Make every INSERT into ``table`` fail inside the database, as a crash-at-commit would."""
    async with database.transaction() as session:
        connection = await session.connection()
        if database.is_sqlite:
            await connection.exec_driver_sql(
                f"CREATE TRIGGER test_fail_{table} BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
        else:
            await connection.exec_driver_sql(
                "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected failure' USING ERRCODE = 'XX000'; END $$"
            )
            await connection.exec_driver_sql(
                f"CREATE TRIGGER test_fail_{table} BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_fail()"
            )


async def count_rows(database: Database, table: FromClause, *where: object) -> int:
    async with database.get_session() as session:
        query = select(func.count()).select_from(table)
        for clause in where:
            query = query.where(clause)  # type: ignore[arg-type]
        return int(await session.scalar(query) or 0)


async def tamper_with_audit(database: Database, *statements: str) -> None:
    """Run statements with the append-only triggers and foreign keys out of the way, as an
    attacker with direct access to the database could."""
    if database.is_sqlite:
        # A plain sqlite3 connection: foreign keys are off unless asked for.
        connection = sqlite3.connect(str(database.url.database))
        try:
            for table in ("audit_logs", "audit_seals"):
                for operation in ("update", "delete"):
                    connection.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_{operation}")
            for statement in statements:
                connection.execute(statement)
            connection.commit()
        finally:
            connection.close()
        return
    async with database.transaction() as session:
        connection_ = await session.connection()
        await connection_.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for statement in statements:
            await connection_.exec_driver_sql(statement)


@contextmanager
def statements_sent(database: Database, starting: str) -> Iterator[list[tuple[str, bool]]]:
    """(statement, whether an executemany) of every statement that begins with ``starting``
    (in any case) which the database's engine sends to the driver while the block runs."""
    wanted = starting.upper()
    sent: list[tuple[str, bool]] = []

    def before(_conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, many: bool):
        if statement.lstrip().upper().startswith(wanted):
            sent.append((statement, many))

    event.listen(database.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", before)
