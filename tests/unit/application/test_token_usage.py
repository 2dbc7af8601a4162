"""BufferedTokenUsage: ``last_used_at`` written in batches, off the request path, never lost
to a failed write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from dashtam.application.personal_tokens.usage import BufferedTokenUsage
from dashtam.core.result import Failure, Success
from dashtam.domain.personal_tokens.entities import PersonalAccessToken, TokenScope
from dashtam.domain.users.entities import User
from dashtam.infrastructure.errors import DatabaseError
from tests.fakes import FakeClock, FakeStore, RecordingLogger
from tests.unit.application.conftest import user_with_password
from tests.unit.application.support import EMAIL


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


def stored_token(store: FakeStore, user: User, clock: FakeClock, n: int) -> PersonalAccessToken:
    token = PersonalAccessToken(
        user_id=user.id,
        name=f"t{n}",
        token_hash=f"{n:064x}",
        token_hint=f"{n:04}",
        scopes=frozenset({TokenScope.READ}),
        expires_at=clock() + timedelta(days=1),
    )
    store.personal_tokens[token.id] = token
    return token


@pytest.fixture
async def usage(store: FakeStore, logger: RecordingLogger) -> AsyncIterator[BufferedTokenUsage]:
    # A long interval: these tests flush by hand unless they say otherwise.
    buffered = BufferedTokenUsage(uow_factory=store.uow, logger=logger, interval=3600)
    yield buffered
    await buffered.close()


def last_used(store: FakeStore, token: PersonalAccessToken) -> datetime | None:
    return store.personal_tokens[token.id].last_used_at


async def test_a_flush_writes_the_latest_use_of_each_token_in_one_commit(
    usage: BufferedTokenUsage, store: FakeStore, person: User, clock: FakeClock
) -> None:
    first, second = (stored_token(store, person, clock, n) for n in range(2))
    start = clock()
    usage.note(first.id, start + timedelta(seconds=5))
    usage.note(first.id, start + timedelta(seconds=2))  # noted out of order: the latest wins
    usage.note(second.id, start + timedelta(seconds=1))
    assert (usage.waiting, last_used(store, first)) == (2, None)
    commits = store.commits

    assert await usage.flush() == Success(2)

    assert store.commits == commits + 1
    assert last_used(store, first) == start + timedelta(seconds=5)
    assert last_used(store, second) == start + timedelta(seconds=1)
    assert store.personal_tokens[first.id].version == 1
    assert await usage.flush() == Success(0)


async def test_a_failed_write_keeps_the_uses_for_the_next_round(
    usage: BufferedTokenUsage, store: FakeStore, person: User, clock: FakeClock
) -> None:
    token = stored_token(store, person, clock, 0)
    usage.note(token.id, clock())
    store.faults.fail_next("personal_tokens.mark_used", DatabaseError("down"))
    assert isinstance(await usage.flush(), Failure)
    store.fail_next_commit()
    assert isinstance(await usage.flush(), Failure)
    assert last_used(store, token) is None
    later = clock.advance(seconds=30)
    usage.note(token.id, later)

    assert await usage.flush() == Success(1)
    assert last_used(store, token) == later


async def test_the_writer_flushes_by_itself(
    store: FakeStore, logger: RecordingLogger, person: User, clock: FakeClock
) -> None:
    token = stored_token(store, person, clock, 0)
    usage = BufferedTokenUsage(uow_factory=store.uow, logger=logger, interval=0.01)
    try:
        usage.note(token.id, clock())
        for _ in range(500):
            if last_used(store, token) is not None:
                break
            await asyncio.sleep(0.01)
        assert last_used(store, token) == clock()
    finally:
        await usage.close()


async def test_close_writes_what_is_left_or_says_what_was_lost(
    store: FakeStore, logger: RecordingLogger, person: User, clock: FakeClock
) -> None:
    kept, lost = (stored_token(store, person, clock, n) for n in range(2))
    usage = BufferedTokenUsage(uow_factory=store.uow, logger=logger, interval=3600)
    usage.note(kept.id, clock())
    await usage.close()
    assert last_used(store, kept) == clock()

    usage.note(lost.id, clock())
    store.faults.fail_next("personal_tokens.mark_used", DatabaseError("down"))
    await usage.close()
    assert last_used(store, lost) is None
    [record] = logger.find("token_usage_lost")
    assert record.fields == {"tokens": 1, "code": "database_error"}
    assert usage.waiting == 0


class _Stalled:
    """A unit of work that never starts: a write cut off by the writer's cancellation."""

    async def __aenter__(self) -> object:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_a_write_cut_off_by_a_stop_is_written_by_close(
    store: FakeStore, logger: RecordingLogger, person: User, clock: FakeClock
) -> None:
    token = stored_token(store, person, clock, 0)
    factories = iter([_Stalled, store.uow])
    usage = BufferedTokenUsage(
        uow_factory=lambda: next(factories)(),  # type: ignore[operator]
        logger=logger,
        interval=0.01,
    )
    usage.note(token.id, clock())
    for _ in range(500):  # until the writer has taken the batch and stalls on it
        if usage.waiting == 0:
            break
        await asyncio.sleep(0.01)
    assert (usage.waiting, last_used(store, token)) == (0, None)

    await usage.close()

    assert last_used(store, token) == clock()


async def test_the_writer_stops_when_idle_and_starts_again_on_use(
    store: FakeStore, logger: RecordingLogger, person: User, clock: FakeClock
) -> None:
    token = stored_token(store, person, clock, 0)
    usage = BufferedTokenUsage(uow_factory=store.uow, logger=logger, interval=0.01)

    async def settled() -> None:
        for _ in range(1000):
            if not usage.writing:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the writer never stopped")

    try:
        assert not usage.writing
        usage.note(token.id, clock())
        assert usage.writing
        await settled()  # wrote, then found nothing more to write
        assert last_used(store, token) == clock()

        later = clock.advance(seconds=5)
        usage.note(token.id, later)
        assert usage.writing
        await settled()
        assert last_used(store, token) == later
    finally:
        await usage.close()
