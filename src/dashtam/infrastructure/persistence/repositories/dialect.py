"""What differs between PostgreSQL and SQLite, for the repositories that write in bulk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Table, any_, column, delete, literal, select, text
from sqlalchemy import table as table_clause
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from dashtam.infrastructure.persistence.base import Base


def insert_for(session: AsyncSession) -> Callable[[type[Base]], Any]:
    """The dialect's INSERT, which knows ON CONFLICT on both PostgreSQL and SQLite."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def one_of(session: AsyncSession, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY($1)``, one array parameter rather
    than one per value: a batch's thousand keys are not rendered into the statement."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(values), ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


_BULK_INSERTED = "dashtam_bulk_inserted"


async def insert_new(
    session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], *, key: Sequence[str]
) -> int:
    """Insert ``rows`` (all with the same columns), skipping any whose ``key`` is taken
    (``ON CONFLICT DO NOTHING``: another import may have inserted it meanwhile); how many
    were inserted.

    PostgreSQL: COPY into a temporary staging table, then one ``INSERT ... SELECT``, in the
    session's transaction. SQLite: one multi-row INSERT."""
    if not rows:
        return 0
    if session.get_bind().dialect.name != "postgresql":
        result = await session.execute(
            sqlite_insert(model)
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(model.id),
            rows,
        )
        return len(result.all())
    return await _copy_insert(session, model.__table__, rows, key)


async def _copy_insert(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> int:
    columns = list(rows[0])
    stage = f"import_stage_{table.name}"
    # Dropped with the transaction (commit or rollback); its first batch creates it. Created
    # again (IF NOT EXISTS) under a new savepoint: rolling one back drops what it created.
    made = session.info.setdefault("import_stages", {})
    scope = session.get_nested_transaction() or session.get_transaction()
    if scope is None or made.get(stage) is not scope:
        await session.execute(
            text(
                f'CREATE TEMPORARY TABLE IF NOT EXISTS "{stage}" '
                f'(LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DROP'
            )
        )
        made[stage] = session.get_nested_transaction() or session.get_transaction()
    # COPY bypasses the column types' bind processing: apply it here, so that the checks
    # the types make (whole 1/10,000ths of money, aware datetimes) hold exactly as for INSERT.
    dialect = session.get_bind().dialect
    processors = [
        (index, kind.process_bind_param)
        for index, name in enumerate(columns)
        if isinstance(kind := table.c[name].type, TypeDecorator)
    ]
    values = itemgetter(*columns)
    records = []
    try:
        for row in rows:
            record = list(values(row))
            for index, process in processors:
                record[index] = process(record[index], dialect)
            records.append(record)
    except (TypeError, ValueError) as exc:  # as SQLAlchemy reports a refused bind value
        raise StatementError(str(exc), f"COPY {stage}", None, exc) from exc
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if driver is None:
        raise RuntimeError("the session's connection has no asyncpg connection")
    await driver.copy_records_to_table(stage, records=records, columns=columns)
    # The staged rows leave the stage in the statement that inserts them.
    staged = delete(table_clause(stage, *(column(name) for name in columns)))
    moved = staged.returning(*(column(name) for name in columns)).cte("staged")
    result = await session.execute(
        pg_insert(table)
        .from_select(columns, select(*(moved.c[name] for name in columns)))
        .on_conflict_do_nothing(index_elements=list(key))
    )
    inserted = int(getattr(result, "rowcount", 0) or 0)
    bulk_inserted(session)[table.name] += inserted
    return inserted


def bulk_inserted(session: AsyncSession) -> Counter[str]:
    """Rows COPY-inserted per table by this session since its last commit (see the unit of
    work's statistics refresh)."""
    counts: Counter[str] = session.info.setdefault(_BULK_INSERTED, Counter())
    return counts
