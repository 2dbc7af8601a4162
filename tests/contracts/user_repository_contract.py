"""The ``UserRepository`` contract, written once; ``test_user_repository`` runs it per adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dashtam.core.errors import ConflictError, Error, NotFoundError
from dashtam.core.ids import new_id
from dashtam.core.result import Failure, Result, Success
from dashtam.domain.users.entities import User
from dashtam.domain.users.repository import UserRepository
from dashtam.domain.users.value_objects import Email, Role
from tests.contracts.harness import Harness

CREATED = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
UPDATED = datetime(2024, 6, 7, 8, 9, 10, 111213, tzinfo=UTC)


def email(raw: str) -> Email:
    return Email.parse(raw).unwrap()


def new_user(raw_email: str = "someone@example.com", **overrides: object) -> User:
    fields: dict[object, object] = {"email": email(raw_email), "password_hash": "hash-1"}
    fields.update(overrides)
    return User(**fields)  # type: ignore[arg-type]


def error_of(result: Result[object, Error]) -> Error:
    assert isinstance(result, Failure), f"expected a Failure, got {result!r}"
    return result.error


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)


class UserRepositoryContract:
    """Every ``UserRepository`` adapter must pass these; subclasses provide ``harness``."""

    @pytest.fixture
    def harness(self) -> Harness[UserRepository]:
        raise NotImplementedError

    async def test_add_get_and_find_by_email_round_trip_every_field(
        self, harness: Harness[UserRepository]
    ) -> None:
        user = new_user(
            "Round.Trip@Example.COM",
            password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
            role=Role.ADMIN,
            is_active=False,
            created_at=CREATED,
            updated_at=UPDATED,
        )
        added = await harness.adapter.add(user)
        assert added == Success(user)

        repository = await harness.reopen()
        fetched = (await repository.get(user.id)).unwrap()
        found = (await repository.find_by_email(email("round.trip@example.com"))).unwrap()
        assert fetched == user
        assert found == user
        assert fetched is not None
        assert fetched.email.value == "round.trip@example.com"
        assert (fetched.created_at, fetched.updated_at) == (CREATED, UPDATED)
        assert_utc(fetched.created_at)
        assert_utc(fetched.updated_at)

    async def test_timestamps_in_another_zone_come_back_as_the_same_instant_in_utc(
        self, harness: Harness[UserRepository]
    ) -> None:
        plus_two = CREATED.astimezone(timezone(timedelta(hours=2)))
        user = new_user(created_at=plus_two, updated_at=plus_two)
        (await harness.adapter.add(user)).unwrap()
        fetched = (await (await harness.reopen()).get(user.id)).unwrap()
        assert fetched is not None
        assert fetched.created_at == CREATED
        assert_utc(fetched.created_at)
        assert_utc(fetched.updated_at)

    async def test_unknown_user_is_none_not_an_error(
        self, harness: Harness[UserRepository]
    ) -> None:
        assert await harness.adapter.get(new_id()) == Success(None)
        assert await harness.adapter.find_by_email(email("nobody@example.com")) == Success(None)

    async def test_returned_users_are_copies(self, harness: Harness[UserRepository]) -> None:
        added = (await harness.adapter.add(new_user())).unwrap()
        added.role = Role.ADMIN  # changing an entity is not persisting it
        fetched = (await harness.adapter.get(added.id)).unwrap()
        assert fetched is not None
        assert fetched.role is Role.USER

    @pytest.mark.parametrize(
        "second", ["taken@example.com", "TAKEN@Example.com", " Taken@EXAMPLE.COM"]
    )
    async def test_duplicate_email_is_a_conflict_and_nothing_is_stored(
        self, harness: Harness[UserRepository], second: str
    ) -> None:
        first = new_user("taken@example.com")
        (await harness.adapter.add(first)).unwrap()
        repository = await harness.reopen()
        error = error_of(await repository.add(new_user(second)))
        assert isinstance(error, ConflictError)
        assert error.code == "email_taken"
        repository = await harness.discard()
        assert await repository.find_by_email(email("taken@example.com")) == Success(first)

    # Adding to a session whose transaction failed makes SQLAlchemy warn; that is the point.
    @pytest.mark.filterwarnings("ignore:Session's state has been changed:sqlalchemy.exc.SAWarning")
    async def test_a_failed_write_leaves_the_transaction_unusable_until_rollback(
        self, harness: Harness[UserRepository]
    ) -> None:
        # No savepoints (fad0a10): after a failed write the caller must roll back. The fake
        # refuses further work too, so unit tests catch handlers that carry on regardless.
        first = (await harness.adapter.add(new_user("taken@example.com"))).unwrap()
        repository = await harness.reopen()
        error_of(await repository.add(new_user("taken@example.com")))
        assert isinstance(await repository.get(first.id), Failure)
        assert isinstance(await repository.add(new_user("other@example.com")), Failure)
        repository = await harness.discard()
        assert await repository.get(first.id) == Success(first)
        (await repository.add(new_user("other@example.com"))).unwrap()

    async def test_non_canonical_email_is_refused_by_the_store(
        self, harness: Harness[UserRepository]
    ) -> None:
        # Email.parse always lower-cases; a hand-built Email must not slip past uniqueness.
        error = error_of(await harness.adapter.add(new_user(email=Email("Upper@Example.com"))))
        assert error.code == "integrity_error"
        repository = await harness.discard()
        assert await repository.find_by_email(Email("upper@example.com")) == Success(None)

    async def test_update_persists_changes_and_bumps_version(
        self, harness: Harness[UserRepository]
    ) -> None:
        user = new_user(created_at=CREATED, updated_at=UPDATED)
        (await harness.adapter.add(user)).unwrap()
        loaded = (await (await harness.reopen()).get(user.id)).unwrap()
        assert loaded is not None
        assert loaded.version == 1
        changed = replace(
            loaded, email=email("renamed@example.com"), password_hash="hash-2", role=Role.ADMIN
        )
        updated = (await harness.adapter.update(changed)).unwrap()
        assert updated.version == 2
        assert updated.updated_at > UPDATED
        assert updated.created_at == CREATED

        repository = await harness.reopen()
        stored = (await repository.get(user.id)).unwrap()
        assert stored == updated
        assert stored is not None
        assert (stored.email.value, stored.password_hash, stored.role) == (
            "renamed@example.com",
            "hash-2",
            Role.ADMIN,
        )
        assert await repository.find_by_email(email("someone@example.com")) == Success(None)
        again = (await repository.update(replace(stored, is_active=False))).unwrap()
        assert again.version == 3

    async def test_closing_an_account_persists_closed_at_and_frees_the_email(
        self, harness: Harness[UserRepository]
    ) -> None:
        added = (await harness.adapter.add(new_user("closing@example.com"))).unwrap()
        repository = await harness.reopen()
        closing = replace(added)
        closing.close(UPDATED.astimezone(timezone(timedelta(hours=-3))))
        updated = (await repository.update(closing)).unwrap()
        assert updated.version == 2
        repository = await harness.reopen()
        stored = (await repository.get(added.id)).unwrap()
        assert stored is not None
        assert (stored.closed_at, stored.is_closed, stored.can_log_in) == (UPDATED, True, False)
        assert stored.closed_at is not None
        assert_utc(stored.closed_at)
        assert stored.email == closing.email
        assert await repository.find_by_email(email("closing@example.com")) == Success(None)
        (await repository.add(new_user("closing@example.com"))).unwrap()

    async def test_update_without_changes_keeps_the_version(
        self, harness: Harness[UserRepository]
    ) -> None:
        # The ORM issues no UPDATE when no column changed; the fake must not bump either.
        added = (await harness.adapter.add(new_user())).unwrap()
        unchanged = (await (await harness.reopen()).update(added)).unwrap()
        assert unchanged.version == 1

    async def test_stale_update_is_a_conflict_and_changes_nothing(
        self, harness: Harness[UserRepository]
    ) -> None:
        added = (await harness.adapter.add(new_user())).unwrap()
        repository = await harness.reopen()
        winner = (await repository.update(replace(added, role=Role.ADMIN))).unwrap()
        error = error_of(await repository.update(replace(added, is_active=False)))
        assert isinstance(error, ConflictError)
        assert error.code == "stale_version"

        stored = (await (await harness.reopen()).get(added.id)).unwrap()
        assert stored == winner
        assert stored is not None
        assert (stored.version, stored.role, stored.is_active) == (2, Role.ADMIN, True)

    async def test_update_of_missing_user_is_not_found(
        self, harness: Harness[UserRepository]
    ) -> None:
        error = error_of(await harness.adapter.update(new_user()))
        assert isinstance(error, NotFoundError)
        assert error.code == "not_found"

    async def test_update_to_a_taken_email_is_a_conflict(
        self, harness: Harness[UserRepository]
    ) -> None:
        (await harness.adapter.add(new_user("first@example.com"))).unwrap()
        second = (await harness.adapter.add(new_user("second@example.com"))).unwrap()
        repository = await harness.reopen()
        error = error_of(await repository.update(replace(second, email=email("first@example.com"))))
        assert isinstance(error, ConflictError)
        assert error.code == "email_taken"

    async def test_delete_removes_the_user_and_frees_the_email(
        self, harness: Harness[UserRepository]
    ) -> None:
        user = (await harness.adapter.add(new_user("gone@example.com"))).unwrap()
        keep = (await harness.adapter.add(new_user("kept@example.com"))).unwrap()
        repository = await harness.reopen()
        assert await repository.delete(user.id) == Success(None)
        assert await repository.get(user.id) == Success(None)
        assert await repository.find_by_email(email("gone@example.com")) == Success(None)

        repository = await harness.reopen()
        assert await repository.get(user.id) == Success(None)
        assert await repository.get(keep.id) == Success(keep)
        (await repository.add(new_user("gone@example.com"))).unwrap()

    async def test_delete_of_missing_user_is_not_found(
        self, harness: Harness[UserRepository]
    ) -> None:
        user = (await harness.adapter.add(new_user())).unwrap()
        repository = await harness.reopen()
        (await repository.delete(user.id)).unwrap()
        for user_id in (user.id, new_id()):
            error = error_of(await repository.delete(user_id))
            assert isinstance(error, NotFoundError)
