"""The fake unit of work keeps SqlUnitOfWork's promises, so handler tests can trust it."""

from __future__ import annotations

import pytest

from dashtam.core.errors import ConflictError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditContext, AuditEntry, AuditOutcome, ResourceType
from dashtam.domain.users.events import UserRegistered
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakePasswordHasher, FakeStore, RecordingLogger
from tests.unit.application.conftest import make_user


def entry(outcome: AuditOutcome = AuditOutcome.SUCCEEDED) -> AuditEntry:
    return AuditEntry.of(
        AuditContext(),
        action=AuditAction.USER_REGISTERED,
        outcome=outcome,
        resource_type=ResourceType.USER,
        resource_id=new_id(),
    )


async def test_staged_changes_are_invisible_to_others_until_commit(store: FakeStore) -> None:
    user = make_user("a@example.com")
    async with store.uow() as writer:
        (await writer.users.add(user)).unwrap()
        writer.audit(entry())
        writer.raise_event(UserRegistered(user_id=user.id, email="a@example.com"))
        async with store.uow() as reader:
            assert await reader.users.get(user.id) == Success(None)
        assert (store.users, store.audit_log, store.outbox) == ({}, [], [])
        assert await writer.commit() == Success(None)
        async with store.uow() as reader:
            assert (await reader.users.get(user.id)).unwrap() == user
    assert len(store.audit_log) == 1
    assert [e.user_id for e in store.outbox] == [user.id]  # type: ignore[attr-defined]
    assert store.delivered == [store.outbox[0].event_id]


async def test_leaving_without_commit_discards_everything(store: FakeStore) -> None:
    user = make_user("a@example.com")
    async with store.uow() as uow:
        (await uow.users.add(user)).unwrap()
        uow.audit(entry())
        uow.raise_event(UserRegistered(user_id=user.id, email="a@example.com"))
    assert (store.users, store.audit_log, store.outbox, store.delivered) == ({}, [], [], [])


async def test_exception_in_the_block_discards_and_skips_delivery(store: FakeStore) -> None:
    user = make_user("a@example.com")
    with pytest.raises(RuntimeError):
        async with store.uow() as uow:
            (await uow.users.add(user)).unwrap()
            uow.raise_event(UserRegistered(user_id=user.id, email="a@example.com"))
            assert await uow.commit() == Success(None)
            raise RuntimeError("after commit")
    assert list(store.users) == [user.id]  # committed work stays
    assert store.delivered == []


async def test_record_failure_discards_pending_work_then_appends_the_entry(
    store: FakeStore,
) -> None:
    failed = entry(AuditOutcome.FAILED)
    async with store.uow() as uow:
        (await uow.users.add(make_user("a@example.com"))).unwrap()
        uow.audit(entry())
        uow.raise_event(UserRegistered(user_id=new_id(), email="a@example.com"))
        assert await uow.audit_after_rollback(failed) == Success(None)
        assert await uow.commit() == Success(None)  # nothing left to commit
    assert store.users == {}
    assert store.outbox == []
    assert [e.id for e in store.audit_log] == [failed.id]


async def test_failed_commit_rolls_back_and_reports_the_error(store: FakeStore) -> None:
    store.fail_next_commit(DatabaseError("gone", code="database_unavailable"))
    async with store.uow() as uow:
        (await uow.users.add(make_user("a@example.com"))).unwrap()
        uow.audit(entry())
        result = await uow.commit()
        assert isinstance(result, Failure)
        assert result.error.code == "database_unavailable"
        assert await uow.commit() == Success(None)  # the failure was one-shot, work is gone
    assert (store.users, store.audit_log, store.commits) == ({}, [], 1)
    assert "uow_commit_failed" in store.logger.events("warning")


async def test_concurrent_update_loses_with_stale_version(store: FakeStore) -> None:
    user = make_user("a@example.com")
    store.seed(user)
    async with store.uow() as first, store.uow() as second:
        mine = (await first.users.get(user.id)).unwrap()
        theirs = (await second.users.get(user.id)).unwrap()
        assert mine is not None
        assert theirs is not None
        mine.is_active = False
        theirs.password_hash = "fake$new"
        (await first.users.update(mine)).unwrap()
        (await second.users.update(theirs)).unwrap()
        assert await first.commit() == Success(None)
        result = await second.commit()
    assert isinstance(result, Failure)
    assert isinstance(result.error, ConflictError)
    assert result.error.code == "stale_version"
    assert (store.users[user.id].is_active, store.users[user.id].password_hash) == (False, "fake$x")


async def test_users_outside_the_block_is_an_error(store: FakeStore) -> None:
    uow = store.uow()
    with pytest.raises(RuntimeError):
        _ = uow.users


async def test_fake_hasher_and_logger_behave() -> None:
    hasher = FakePasswordHasher()
    hashed = await hasher.hash("correct horse battery")
    assert hashed == "fake$yrettab esroh tcerroc"
    assert await hasher.verify(hashed, "correct horse battery")
    assert not await hasher.verify(hashed, "correct horse batterY")
    assert not hasher.needs_rehash(hashed)
    assert hasher.needs_rehash("$argon2id$v=19$...")
    logger = RecordingLogger()
    logger.info("hello", user_id="u1")
    logger.error("oops")
    assert logger.events() == ["hello", "oops"]
    assert logger.find("hello")[0].fields == {"user_id": "u1"}
