"""One use case = one transaction with a user row, an audit row and an outbox row.

Compares ``SqlUnitOfWork`` (ORM models, Result handling, classification) with the same three
INSERTs sent by raw asyncpg in one transaction: the floor for this write path.
"""

from __future__ import annotations

import asyncio
import json
import time
from uuid import UUID

import asyncpg

from bench.common import BenchResult, median, plain_dsn, throughput, throwaway_postgres
from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.audit.signing import AuditKeyring, AuditRecordSigner
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence import migrator
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from dashtam.infrastructure.security.keys import derive_key, load_signing_key

# The write path signs each audit record (HMAC) like production does.
_SIGNER = AuditRecordSigner(
    AuditKeyring.from_secrets(
        [derive_key("bench", "mac")], [load_signing_key(derive_key("bench", "sign").hex())]
    )
)

ROUNDS = 200
CONCURRENCY = 8


async def _ours(db: Database, index: int) -> None:
    async with SqlUnitOfWork(database=db, logger=get_logger("bench"), signer=_SIGNER) as uow:
        user = User(email=Email(f"ours{index}@bench.example"), password_hash="x")
        await uow.users.add(user)
        uow.raise_event(UserRegistered(user_id=user.id, email=user.email.value))
        uow.audit(
            AuditEntry(
                action=AuditAction.USER_REGISTERED,
                outcome=AuditOutcome.SUCCEEDED,
                resource_type=ResourceType.USER,
                resource_id=user.id,
            )
        )
        await uow.commit()


async def _raw(pool: asyncpg.Pool, index: int) -> None:
    user_id: UUID = new_id()
    now = utcnow()
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "INSERT INTO users (id, created_at, updated_at, version, email, password_hash, role,"
            " is_active) VALUES ($1, $2, $2, 1, $3, 'x', 'user', true)",
            user_id,
            now,
            f"raw{index}@bench.example",
        )
        await connection.execute(
            "INSERT INTO audit_logs (id, created_at, action, outcome, resource_type,"
            " resource_id, metadata) VALUES ($1, $2, 'user.registered', 'succeeded', 'user',"
            " $3, '{}')",
            new_id(),
            now,
            user_id,
        )
        await connection.execute(
            "INSERT INTO event_outbox (id, created_at, event_type, occurred_at, payload,"
            " attempts) VALUES ($1, $2, 'UserRegistered', $2, $3, 0)",
            new_id(),
            now,
            json.dumps({"user_id": str(user_id)}),
        )


async def _timed(worker: object, target: object, run: int) -> float:
    queue = iter(range(run * ROUNDS, (run + 1) * ROUNDS))

    async def loop() -> None:
        for index in queue:
            await worker(target, index)  # type: ignore[operator]

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def run_unit_of_work_bench(*, quick: bool) -> list[BenchResult]:
    rounds = 3 if quick else 7
    async with throwaway_postgres() as url:
        migrator.upgrade(url)
        db = Database(url, pool_size=CONCURRENCY)
        pool = await asyncpg.create_pool(plain_dsn(url), min_size=CONCURRENCY, max_size=CONCURRENCY)
        ours: list[float] = []
        raw: list[float] = []
        try:
            await _timed(_raw, pool, 0)  # warm-up both paths before measuring
            await _timed(_ours, db, 0)
            for run in range(1, rounds + 1):  # A, B, A, B...: drift hits both alike
                raw.append(ROUNDS / await _timed(_raw, pool, run))
                ours.append(ROUNDS / await _timed(_ours, db, run))
        finally:
            await pool.close()
            await db.close()
    note = f"{rounds} rounds of {ROUNDS} use cases, concurrency {CONCURRENCY}"
    return [
        throughput(
            "audited write (user+audit+outbox)",
            median(ours),
            median(raw),
            "use cases/s",
            0.50,
            note,
        )
    ]
