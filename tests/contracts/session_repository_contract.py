"""The ``SessionRepository`` contract, written once; ``test_auth_repositories`` runs it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from dashtam.core.errors import ConflictError, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Success
from dashtam.domain.auth.entities import AuthSession
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email
from tests.contracts.harness import Harness
from tests.contracts.repositories import Repositories
from tests.contracts.user_repository_contract import assert_utc, error_of

NOW = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


async def add_user(repositories: Repositories, email: str = "owner@example.com") -> User:
    user = User(email=Email.parse(email).unwrap(), password_hash="fake$x")
    return (await repositories.users.add(user)).unwrap()


def new_session(user_id: UUID, **overrides: object) -> AuthSession:
    fields: dict[str, object] = {
        "user_id": user_id,
        "expires_at": NOW + timedelta(days=30),
        "created_at": NOW,
        "last_used_at": NOW,
    }
    fields.update(overrides)
    return AuthSession(**fields)  # type: ignore[arg-type]


class SessionRepositoryContract:
    @pytest.fixture
    def harness(self) -> Harness[Repositories]:
        raise NotImplementedError

    async def test_get_with_user_reads_the_session_and_its_owner_together(
        self, harness: Harness[Repositories]
    ) -> None:
        owner = await add_user(harness.adapter)
        other = await add_user(harness.adapter, "other@example.com")
        session = (await harness.adapter.sessions.add(new_session(owner.id))).unwrap()
        (await harness.adapter.sessions.add(new_session(other.id))).unwrap()

        reopened = await harness.reopen()
        found = (await reopened.sessions.get_with_user(session.id)).unwrap()
        assert found is not None
        stored_session, stored_user = found
        assert stored_session == replace(session, version=1)
        assert stored_user == (await reopened.users.get(owner.id)).unwrap()
        assert (await reopened.sessions.get_with_user(new_id())).unwrap() is None

    async def test_add_then_get_round_trips_every_field_in_utc(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        plus_two = timezone(timedelta(hours=2))
        session = new_session(
            user.id,
            ip_address="2001:db8::7",
            user_agent="Mozilla/5.0 (X11)",
            created_at=NOW.astimezone(plus_two),
            last_used_at=(NOW + timedelta(minutes=1)).astimezone(plus_two),
            expires_at=(NOW + timedelta(days=30)).astimezone(plus_two),
        )
        added = (await harness.adapter.sessions.add(session)).unwrap()
        assert added.id == session.id

        stored = (await (await harness.reopen()).sessions.get(session.id)).unwrap()
        assert stored is not None
        assert stored == replace(session, version=1)
        assert (stored.created_at, stored.last_used_at, stored.expires_at) == (
            NOW,
            NOW + timedelta(minutes=1),
            NOW + timedelta(days=30),
        )
        for moment in (stored.created_at, stored.last_used_at, stored.expires_at):
            assert_utc(moment)
        assert (stored.revoked_at, stored.revoked_reason) == (None, None)

    async def test_unknown_session_is_none(self, harness: Harness[Repositories]) -> None:
        assert await harness.adapter.sessions.get(new_id()) == Success(None)

    async def test_update_persists_use_and_revocation_and_bumps_the_version(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        session = (await harness.adapter.sessions.add(new_session(user.id))).unwrap()
        repositories = await harness.reopen()
        loaded = (await repositories.sessions.get(session.id)).unwrap()
        assert loaded is not None
        loaded.last_used_at = NOW + timedelta(hours=1)
        loaded.revoke("logout", NOW + timedelta(hours=2))
        updated = (await repositories.sessions.update(loaded)).unwrap()
        assert updated.version == 2

        stored = (await (await harness.reopen()).sessions.get(session.id)).unwrap()
        assert stored is not None
        assert stored.last_used_at == NOW + timedelta(hours=1)
        assert stored.revoked_at == NOW + timedelta(hours=2)
        assert stored.revoked_reason == "logout"
        assert stored.revoked_at is not None
        assert_utc(stored.revoked_at)
        assert stored.version == 2
        assert not stored.is_active(NOW + timedelta(hours=3))

    async def test_stale_update_is_a_conflict(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        session = (await harness.adapter.sessions.add(new_session(user.id))).unwrap()
        repositories = await harness.reopen()
        first = replace(session, last_used_at=NOW + timedelta(minutes=5))
        (await repositories.sessions.update(first)).unwrap()
        second = replace(session, last_used_at=NOW + timedelta(minutes=9))
        error = error_of(await repositories.sessions.update(second))
        assert isinstance(error, ConflictError)
        assert error.code == "stale_version"

    async def test_update_of_a_missing_session_is_not_found(
        self, harness: Harness[Repositories]
    ) -> None:
        error = error_of(await harness.adapter.sessions.update(new_session(new_id())))
        assert isinstance(error, NotFoundError)

    async def test_list_active_excludes_revoked_expired_and_others_newest_first(
        self, harness: Harness[Repositories]
    ) -> None:
        repositories = harness.adapter
        user = await add_user(repositories)
        other = await add_user(repositories, "other@example.com")
        oldest = new_session(user.id)
        expired = new_session(user.id, expires_at=NOW - timedelta(seconds=1))
        revoked = new_session(user.id, revoked_at=NOW, revoked_reason="logout")
        middle = new_session(user.id, ip_address="192.0.2.1")
        theirs = new_session(other.id)
        newest = new_session(user.id, ip_address="192.0.2.2")
        for session in (oldest, expired, revoked, middle, theirs, newest):
            (await repositories.sessions.add(session)).unwrap()

        repositories = await harness.reopen()
        active = (await repositories.sessions.list_active(user.id, now=NOW)).unwrap()
        assert [s.id for s in active] == [newest.id, middle.id, oldest.id]
        later = NOW + timedelta(days=30)  # expires_at is exclusive: expired at that instant
        assert (await repositories.sessions.list_active(user.id, now=later)).unwrap() == []
        assert (await repositories.sessions.list_active(new_id(), now=NOW)).unwrap() == []

    async def test_revoke_all_revokes_every_active_session_and_returns_their_ids(
        self, harness: Harness[Repositories]
    ) -> None:
        repositories = harness.adapter
        user = await add_user(repositories)
        other = await add_user(repositories, "other@example.com")
        sessions = [new_session(user.id) for _ in range(3)]
        already = new_session(user.id, revoked_at=NOW - timedelta(hours=1), revoked_reason="old")
        theirs = new_session(other.id)
        for session in (*sessions, already, theirs):
            (await repositories.sessions.add(session)).unwrap()

        repositories = await harness.reopen()
        revoked = await repositories.sessions.revoke_all(
            user.id, reason="password_changed", now=NOW
        )
        assert set(revoked.unwrap()) == {s.id for s in sessions}
        # Visible in the same transaction (a later step of the use case reads it).
        assert (await repositories.sessions.list_active(user.id, now=NOW)).unwrap() == []
        in_txn = (await repositories.sessions.get(sessions[0].id)).unwrap()
        assert in_txn is not None
        assert in_txn.revoked_at == NOW

        repositories = await harness.reopen()
        assert (await repositories.sessions.list_active(user.id, now=NOW)).unwrap() == []
        for session in sessions:
            stored = (await repositories.sessions.get(session.id)).unwrap()
            assert stored is not None
            assert (stored.revoked_at, stored.revoked_reason) == (NOW, "password_changed")
            assert stored.version == 2
        kept = (await repositories.sessions.get(already.id)).unwrap()
        assert kept is not None
        assert kept.revoked_reason == "old"  # an earlier revocation is not overwritten
        assert [
            s.id for s in (await repositories.sessions.list_active(other.id, now=NOW)).unwrap()
        ] == [theirs.id]

    async def test_revoke_all_spares_the_kept_session(self, harness: Harness[Repositories]) -> None:
        repositories = harness.adapter
        user = await add_user(repositories)
        current, other_device, third = (new_session(user.id) for _ in range(3))
        for session in (current, other_device, third):
            (await repositories.sessions.add(session)).unwrap()
        repositories = await harness.reopen()
        revoked = await repositories.sessions.revoke_all(
            user.id, reason="password_changed", now=NOW, keep=current.id
        )
        assert set(revoked.unwrap()) == {other_device.id, third.id}
        repositories = await harness.reopen()
        active = (await repositories.sessions.list_active(user.id, now=NOW)).unwrap()
        assert [s.id for s in active] == [current.id]
        again = await repositories.sessions.revoke_all(user.id, reason="again", now=NOW)
        assert list(again.unwrap()) == [current.id]

    async def test_revoke_all_without_sessions_is_empty(
        self, harness: Harness[Repositories]
    ) -> None:
        user = await add_user(harness.adapter)
        result = await harness.adapter.sessions.revoke_all(user.id, reason="x", now=NOW)
        assert list(result.unwrap()) == []

    async def test_a_discarded_add_leaves_nothing(self, harness: Harness[Repositories]) -> None:
        user = await add_user(harness.adapter)
        repositories = await harness.reopen()
        session = new_session(user.id)
        (await repositories.sessions.add(session)).unwrap()
        repositories = await harness.discard()
        assert await repositories.sessions.get(session.id) == Success(None)
