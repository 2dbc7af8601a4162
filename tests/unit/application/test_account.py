"""ChangePasswordHandler and CloseAccountHandler: the caller's own account."""

from __future__ import annotations

from uuid import UUID

import pytest

from dashtam.application.auth.login import LoginHandler
from dashtam.application.auth.throttle import account_key
from dashtam.application.users.account import ChangePasswordHandler, CloseAccountHandler
from dashtam.application.users.commands import ChangePassword, CloseAccount
from dashtam.core.errors import ConflictError, Error, NotFoundError, RateLimitedError
from dashtam.core.ids import new_id
from dashtam.core.result import Result
from dashtam.domain.audit import AuditAction, AuditEntry, AuditOutcome
from dashtam.domain.auth.second_factor import TotpFactor
from dashtam.domain.users.entities import CLOSED_PASSWORD_HASH, User
from dashtam.domain.users.events import UserAccountClosed, UserPasswordChanged
from dashtam.domain.users.value_objects import Email
from dashtam.infrastructure.security.common_passwords import default_password_policy
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.security import PREFIX
from tests.unit.application.conftest import CONTEXT, PASSWORD, user_with_password
from tests.unit.application.support import (
    EMAIL,
    authenticate_handler,
    error_of,
    log_in,
    login_handler,
)

NEW_PASSWORD = "a brand new passphrase for me"


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def login(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock)


@pytest.fixture
def change(
    store: FakeStore, hasher: FakePasswordHasher, logger: RecordingLogger, clock: FakeClock
) -> ChangePasswordHandler:
    return ChangePasswordHandler(
        uow_factory=store.uow,
        hasher=hasher,
        policy=default_password_policy(),
        logger=logger,
        clock=clock,
    )


@pytest.fixture
def close(
    store: FakeStore, hasher: FakePasswordHasher, logger: RecordingLogger, clock: FakeClock
) -> CloseAccountHandler:
    return CloseAccountHandler(uow_factory=store.uow, hasher=hasher, logger=logger, clock=clock)


async def change_password(
    handler: ChangePasswordHandler,
    user: User,
    session_id: UUID,
    *,
    current: str = PASSWORD,
    new: str = NEW_PASSWORD,
    version: int | None = None,
) -> Result[None, Error]:
    command = ChangePassword(
        user_id=user.id,
        session_id=session_id,
        current_password=current,
        new_password=new,
        expected_version=user.version if version is None else version,
        context=CONTEXT,
    )
    return await handler.handle(command)


def last_entry_is(
    store: FakeStore, action: AuditAction, outcome: AuditOutcome, reason: object
) -> AuditEntry:
    entry = store.audit_log[-1]
    assert (entry.action, entry.outcome, entry.reason) == (action, outcome, reason)
    return entry


async def test_change_password_keeps_this_session_and_ends_the_others(
    change: ChangePasswordHandler,
    login: LoginHandler,
    store: FakeStore,
    person: User,
    tokens: JwtTokenService,
    clock: FakeClock,
) -> None:
    here, laptop, phone = [(await log_in(login)).unwrap() for _ in range(3)]
    (await change_password(change, person, here.session_id)).unwrap()

    stored = store.users[person.id]
    assert stored.password_hash == PREFIX + NEW_PASSWORD[::-1]
    assert stored.version == 2
    assert store.sessions[here.session_id].revoked_at is None
    for ended in (laptop, phone):
        assert store.sessions[ended.session_id].revoked_reason == "password_changed"
    entry = last_entry_is(store, AuditAction.USER_PASSWORD_CHANGED, AuditOutcome.SUCCEEDED, None)
    assert dict(entry.metadata) == {"sessions_revoked": 2}
    authenticate = authenticate_handler(store, tokens, clock)
    assert isinstance((await authenticate.handle(here.access_token)).unwrap().user, User)
    assert error_of(await authenticate.handle(laptop.access_token)).code == "token_revoked"
    assert [e.user_id for e in store.events_of(UserPasswordChanged)] == [person.id]  # type: ignore[attr-defined]
    assert PASSWORD not in repr(store.audit_log)
    assert NEW_PASSWORD not in repr(store.audit_log)
    # The new password logs in; the old one no longer does.
    assert error_of(await log_in(login)).code == "invalid_credentials"
    (await log_in(login, password=NEW_PASSWORD)).unwrap()


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_log_in(
    change: ChangePasswordHandler, login: LoginHandler, store: FakeStore, person: User
) -> None:
    pair = (await log_in(login)).unwrap()
    attempts_before = len(store.login_attempts)
    error = error_of(
        await change_password(change, person, pair.session_id, current="not it at all")
    )
    assert error.code == "invalid_current_password"
    assert error.details == {"field": "current_password"}
    assert store.users[person.id] == person
    assert store.sessions[pair.session_id].revoked_at is None
    assert store.events_of(UserPasswordChanged) == []
    last_entry_is(
        store, AuditAction.USER_PASSWORD_CHANGE_FAILED, AuditOutcome.FAILED, "wrong_password"
    )
    new_attempts = list(store.login_attempts.values())[attempts_before:]
    assert [(a.succeeded, a.account_key) for a in new_attempts] == [(False, account_key(EMAIL))]


async def test_guessing_the_current_password_is_throttled(
    change: ChangePasswordHandler, store: FakeStore, person: User, hasher: FakePasswordHasher
) -> None:
    for _ in range(5):
        result = await change_password(change, person, new_id(), current="guess guess guess")
        assert error_of(result).code == "invalid_current_password"
    verified = hasher.verify_calls
    error = error_of(await change_password(change, person, new_id()))  # even the right one
    assert isinstance(error, RateLimitedError)
    assert hasher.verify_calls == verified
    last_entry_is(
        store, AuditAction.USER_PASSWORD_CHANGE_FAILED, AuditOutcome.FAILED, "rate_limited"
    )


@pytest.mark.parametrize(
    ("new", "code"),
    [
        ("tiny7", "password_too_short"),
        ("x" * 129, "password_too_long"),
        ("qwerty123456", "password_too_common"),
        ("QWERTY123456", "password_too_common"),
        ("person@example.com", "password_contains_email"),
        ("person-and-some-more", "password_contains_email"),
        ("dashtam-2024", "password_too_common"),
    ],
)
async def test_a_new_password_breaking_the_policy_is_refused(
    change: ChangePasswordHandler, store: FakeStore, person: User, new: str, code: str
) -> None:
    # With a second factor the minimum is 8, so the other rules are reached from 8 characters.
    with_second_factor(store, person)
    error = error_of(await change_password(change, person, new_id(), new=new))
    assert error.code == code
    assert error.details["field"] == "new_password"
    assert store.users[person.id] == person
    assert store.events_of(UserPasswordChanged) == []
    last_entry_is(store, AuditAction.USER_PASSWORD_CHANGE_FAILED, AuditOutcome.FAILED, code)
    assert new not in repr(store.audit_log)


async def test_a_stale_expected_version_is_a_conflict(
    change: ChangePasswordHandler, store: FakeStore, person: User
) -> None:
    (await change_password(change, person, new_id())).unwrap()  # version 1 -> 2
    error = error_of(
        await change_password(
            change, person, new_id(), current=NEW_PASSWORD, new="yet another passphrase", version=1
        )
    )
    assert isinstance(error, ConflictError)
    assert error.code == "stale_version"
    assert store.users[person.id].password_hash == PREFIX + NEW_PASSWORD[::-1]
    last_entry_is(
        store, AuditAction.USER_PASSWORD_CHANGE_FAILED, AuditOutcome.FAILED, "stale_version"
    )


class RacingHasher(FakePasswordHasher):
    """Lets another request change the user while the new password is being hashed."""

    def __init__(self, store: FakeStore, user_id: UUID) -> None:
        super().__init__()
        self._store, self._user_id = store, user_id

    async def hash(self, password: str) -> str:
        user = self._store.users[self._user_id]
        user.password_hash, user.version = "fake$someone else", user.version + 1
        return await super().hash(password)


async def test_a_change_racing_another_one_loses_with_a_conflict(
    store: FakeStore, logger: RecordingLogger, clock: FakeClock, person: User
) -> None:
    handler = ChangePasswordHandler(
        uow_factory=store.uow,
        hasher=RacingHasher(store, person.id),
        policy=default_password_policy(),
        logger=logger,
        clock=clock,
    )
    error = error_of(await change_password(handler, person, new_id()))
    assert error.code == "stale_version"
    assert store.users[person.id].password_hash == "fake$someone else"  # no lost update
    assert store.events_of(UserPasswordChanged) == []


async def test_a_closed_or_unknown_user_cannot_change_a_password(
    change: ChangePasswordHandler, store: FakeStore, person: User, clock: FakeClock
) -> None:
    ghost = user_with_password("ghost@example.com")
    assert isinstance(error_of(await change_password(change, ghost, new_id())), NotFoundError)
    store.users[person.id].close(clock())
    assert isinstance(error_of(await change_password(change, person, new_id())), NotFoundError)


# -- CloseAccountHandler -----------------------------------------------------------------------


async def close_account(
    handler: CloseAccountHandler, user: User, password: str = PASSWORD, version: int | None = None
) -> Result[None, Error]:
    command = CloseAccount(
        user_id=user.id,
        password=password,
        expected_version=user.version if version is None else version,
        context=CONTEXT,
    )
    return await handler.handle(command)


async def test_closing_anonymises_ends_sessions_and_keeps_the_audit_trail(
    close: CloseAccountHandler,
    login: LoginHandler,
    store: FakeStore,
    person: User,
    tokens: JwtTokenService,
    clock: FakeClock,
) -> None:
    pairs = [(await log_in(login)).unwrap() for _ in range(2)]
    trail_before = list(store.audit_log)
    (await close_account(close, person)).unwrap()

    stored = store.users[person.id]
    assert stored.email == Email(f"closed-{person.id.hex}@closed.invalid")
    assert EMAIL not in repr(stored)
    assert stored.password_hash == CLOSED_PASSWORD_HASH
    assert (stored.is_active, stored.closed_at, stored.can_log_in) == (False, clock(), False)
    for pair in pairs:
        assert store.sessions[pair.session_id].revoked_reason == "account_closed"
    assert [e.user_id for e in store.events_of(UserAccountClosed)] == [person.id]  # type: ignore[attr-defined]
    assert store.audit_log[: len(trail_before)] == trail_before  # nothing removed
    last_entry_is(store, AuditAction.USER_ACCOUNT_CLOSED, AuditOutcome.SUCCEEDED, None)
    assert store.audit_log[-1].resource_id == person.id

    assert error_of(await log_in(login)).code == "invalid_credentials"
    authenticate = authenticate_handler(store, tokens, clock)
    assert error_of(await authenticate.handle(pairs[0].access_token)).code == "token_revoked"
    async with store.uow() as uow:  # the address is free for a new registration
        assert (await uow.users.find_by_email(Email(EMAIL))).unwrap() is None


async def test_closing_needs_the_password(
    close: CloseAccountHandler, store: FakeStore, person: User
) -> None:
    error = error_of(await close_account(close, person, "not my password"))
    assert (error.code, error.details) == ("invalid_current_password", {"field": "password"})
    assert store.users[person.id] == person
    assert store.events_of(UserAccountClosed) == []
    last_entry_is(
        store, AuditAction.USER_ACCOUNT_CLOSE_FAILED, AuditOutcome.FAILED, "wrong_password"
    )


async def test_closing_with_a_stale_version_is_a_conflict(
    close: CloseAccountHandler, store: FakeStore, person: User
) -> None:
    error = error_of(await close_account(close, person, version=person.version + 1))
    assert error.code == "stale_version"
    assert store.users[person.id].closed_at is None


async def test_a_closed_account_cannot_be_closed_again(
    close: CloseAccountHandler, store: FakeStore, person: User
) -> None:
    (await close_account(close, person)).unwrap()
    closed = store.users[person.id]
    assert isinstance(error_of(await close_account(close, closed)), NotFoundError)
    assert len(store.events_of(UserAccountClosed)) == 1


def with_second_factor(store: FakeStore, user: User) -> None:
    store.totp_factors[user.id] = TotpFactor(
        user_id=user.id, sealed_secret="sealed", confirmed_at=user.created_at
    )


async def test_without_a_second_factor_a_new_password_needs_fifteen_characters(
    change: ChangePasswordHandler, store: FakeStore, person: User
) -> None:
    error = error_of(await change_password(change, person, new_id(), new="fourteen chars"))
    assert error.code == "password_too_short"
    assert error.details == {
        "field": "new_password",
        "min_length": 15,
        "applies": "password_only",
    }
    assert "8 once a second factor is enabled" in error.message


async def test_with_a_second_factor_eight_characters_are_enough(
    change: ChangePasswordHandler, store: FakeStore, person: User
) -> None:
    with_second_factor(store, person)
    (await change_password(change, person, new_id(), new="tuba7Lim")).unwrap()
    too_short = error_of(
        await change_password(change, person, new_id(), current="tuba7Lim", new="x7Tz", version=2)
    )
    assert too_short.details["min_length"] == 8
    assert too_short.details["applies"] == "with_second_factor"
