"""What must hold after every fault, read straight from the database the processes used."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.stress.load import WRITES, Record

# The table that holds the row an acknowledged write created, keyed by the id it answered.
_CREATED_IN = {"register": "users", "connect": "provider_connections"}


@dataclass
class Snapshot:
    users: set[str]
    connections: set[str]
    succeeded_traces: set[str]  # trace ids of audit records of succeeded writes
    outbox_traces: set[str]
    transactions_by_connection: Counter[str]
    undelivered: int


@dataclass
class Findings:
    violations: list[str] = field(default_factory=list)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.violations.append(message)


def _ids(rows: object) -> set[str]:
    return {str(row[0]).replace("-", "") for row in rows}  # type: ignore[attr-defined]


async def snapshot(url: str) -> Snapshot:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as db:
            users = _ids(await db.execute(text("SELECT id FROM users")))
            connections = _ids(await db.execute(text("SELECT id FROM provider_connections")))
            audited = await db.execute(
                text("SELECT trace_id FROM audit_logs WHERE outcome = 'succeeded'")
            )
            outbox = await db.execute(text("SELECT trace_id FROM event_outbox"))
            per_connection = await db.execute(
                text(
                    "SELECT a.connection_id, count(t.id) FROM transactions t "
                    "JOIN accounts a ON a.id = t.account_id GROUP BY a.connection_id"
                )
            )
            undelivered = await db.scalar(
                text("SELECT count(*) FROM event_outbox WHERE delivered_at IS NULL")
            )
            return Snapshot(
                users=users,
                connections=connections,
                succeeded_traces={str(r[0]) for r in audited},
                outbox_traces={str(r[0]) for r in outbox},
                transactions_by_connection=Counter(
                    {str(r[0]).replace("-", ""): int(r[1]) for r in per_connection}
                ),
                undelivered=int(undelivered or 0),
            )
    finally:
        await engine.dispose()


async def drain(url: str, *, within: float) -> float:
    """Seconds until every committed event was delivered; raises if it takes over ``within``."""
    started = time.monotonic()
    while True:
        pending = (await snapshot(url)).undelivered
        if pending == 0:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"{pending} event(s) still undelivered after {within}s")
        await asyncio.sleep(0.5)


def _hex(ident: str) -> str:
    return ident.replace("-", "")


def check_writes(records: list[Record], state: Snapshot, *, file_sizes: dict[str, int]) -> Findings:
    """Every acknowledged write has its row, audit record and outbox row; imports are whole."""
    found = Findings()
    for record in records:
        if record.op not in WRITES or record.status is None or not 200 <= record.status < 300:
            continue
        where = f"{record.op} {record.trace_id}"
        found.check(record.trace_id in state.succeeded_traces, f"{where}: no audit record")
        found.check(record.trace_id in state.outbox_traces, f"{where}: no outbox row")
        assert record.body is not None
        if record.op in _CREATED_IN:
            table = state.users if record.op == "register" else state.connections
            found.check(
                _hex(record.body["id"]) in table, f"{where}: no row in {_CREATED_IN[record.op]}"
            )
        else:
            assert record.fixture is not None
            assert record.connection_id is not None
            stored = state.transactions_by_connection[_hex(record.connection_id)]
            found.check(
                stored == file_sizes[record.fixture],
                f"{where}: {stored} of {file_sizes[record.fixture]} transactions stored",
            )
    # Acknowledged or not (a response lost to kill -9 may hide a commit): all or nothing.
    for record in records:
        if record.op == "import" and record.connection_id and record.fixture:
            stored = state.transactions_by_connection[_hex(record.connection_id)]
            found.check(
                stored in (0, file_sizes[record.fixture]),
                f"partial import {record.trace_id}: {stored} of {file_sizes[record.fixture]}",
            )
    return found


def file_sizes_from(records: list[Record]) -> dict[str, int]:
    """Transactions per fixture, as the first acknowledged imports reported them."""
    sizes: dict[str, int] = {}
    for record in records:
        if record.op == "import" and record.status == 200 and record.body and record.fixture:
            sizes.setdefault(record.fixture, int(record.body["transactions_new"]))
    return sizes
