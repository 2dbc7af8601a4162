"""What a unit of work's commit writes: the use case's rows, its signed audit records and its
outbox rows in one transaction (one statement for audit and outbox on PostgreSQL), or none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, select

from dashtam.core.errors import ConflictError
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.users.entities import User
from dashtam.domain.users.events import UserRegistered
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.logging.setup import get_logger
from dashtam.infrastructure.persistence.database import Database
from dashtam.infrastructure.persistence.models.audit import AuditLogModel
from dashtam.infrastructure.persistence.models.outbox import OutboxEventModel
from dashtam.infrastructure.persistence.models.users import UserModel
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from tests.audit_keys import chain_for_tests, signer_for_tests


def _uow(database: Database) -> SqlUnitOfWork:
    return SqlUnitOfWork(database=database, logger=get_logger("test"), signer=signer_for_tests())


def _entry(user: User, index: int) -> AuditEntry:
    return AuditEntry(
        action=AuditAction.USER_REGISTERED,
        outcome=AuditOutcome.SUCCEEDED,
        resource_type=ResourceType.USER,
        resource_id=user.id,
        metadata={"n": index},
    )


async def _count(database: Database, model: Any) -> int:
    async with database.get_session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_commit_writes_every_audit_record_and_event_once(database: Database) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().split()[0].upper())

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with _uow(database) as uow:
            user = User(email=Email("two@example.com"), password_hash="x")
            assert isinstance(await uow.users.add(user), Success)
            statements.clear()
            for index in range(2):
                uow.audit(_entry(user, index))
                uow.raise_event(UserRegistered(user_id=user.id, email=f"{index}@example.com"))
            assert await uow.commit() == Success(None)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", seen)

    # PostgreSQL: audit and outbox rows in one statement (a round trip less per use case).
    assert statements == (["INSERT", "INSERT"] if database.is_sqlite else ["WITH"])
    assert await _count(database, UserModel) == 1
    assert await _count(database, AuditLogModel) == 2
    async with database.get_session() as session:
        outbox = (await session.scalars(select(OutboxEventModel))).all()
    assert sorted(row.payload["email"] for row in outbox) == ["0@example.com", "1@example.com"]
    assert all(row.created_at is not None and row.attempts == 0 for row in outbox)
    chain = chain_for_tests(database)
    assert (await chain.seal_pending()).sealed == 2
    assert (await chain.verify()).intact


async def test_a_refused_outbox_row_takes_the_user_and_the_audit_record_with_it(
    database: Database,
) -> None:
    async with _uow(database) as uow:
        user = User(email=Email("first@example.com"), password_hash="x")
        await uow.users.add(user)
        taken = UserRegistered(user_id=user.id, email="first@example.com")
        uow.raise_event(taken)
        uow.audit(_entry(user, 0))
        assert await uow.commit() == Success(None)

    async with _uow(database) as uow:
        second = User(email=Email("second@example.com"), password_hash="x")
        await uow.users.add(second)
        uow.audit(_entry(second, 1))
        uow.raise_event(taken)  # the same event id again: the outbox refuses it
        result = await uow.commit()

    assert isinstance(result, Failure)
    assert isinstance(result.error, ConflictError)
    assert await _count(database, UserModel) == 1
    assert await _count(database, AuditLogModel) == 1
    assert await _count(database, OutboxEventModel) == 1
