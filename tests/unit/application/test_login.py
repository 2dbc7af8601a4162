"""LoginHandler: success, every failure reason (indistinguishable to the caller), rehash."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashtam.application.auth.login import INVALID_CREDENTIALS, LoginHandler
from dashtam.application.auth.throttle import account_key
from dashtam.core.errors import AuthenticationError
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditOutcome, ResourceType
from dashtam.domain.auth.events import UserLoggedIn, UserLoginFailed
from dashtam.domain.users.entities import User
from dashtam.infrastructure.errors import DatabaseError
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.identifiers import FakeIdentifierDigest
from tests.fakes.security import LEGACY_PREFIX, PREFIX
from tests.unit.application.conftest import PASSWORD, user_with_password
from tests.unit.application.support import EMAIL, error_of, log_in, login_handler


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def handler(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock)


async def test_success_issues_tokens_a_session_and_a_hashed_refresh_token(
    handler: LoginHandler, store: FakeStore, person: User, tokens: JwtTokenService, clock: FakeClock
) -> None:
    pair = (await log_in(handler)).unwrap()
    assert (pair.user_id, pair.expires_in) == (person.id, 15 * 60)
    claims = tokens.verify_access_token(pair.access_token, now=clock()).unwrap()
    assert (claims.user_id, claims.session_id) == (person.id, pair.session_id)
    assert claims.expires_at - claims.issued_at == timedelta(minutes=15)

    [session] = store.sessions.values()
    assert (session.id, session.user_id) == (pair.session_id, person.id)
    assert (session.ip_address, session.user_agent) == ("198.51.100.7", "pytest/1.0")
    assert (session.created_at, session.last_used_at) == (clock(), clock())
    # The default session policy: one hour idle (no "remember me"), within 24 hours.
    assert session.expires_at == clock() + timedelta(hours=1)
    assert (session.remember_me, session.second_factor) == (False, False)
    [refresh] = store.refresh_tokens.values()
    assert refresh.session_id == session.id
    assert refresh.token_hash == tokens.hash_refresh_token(pair.refresh_token)
    assert pair.refresh_token not in refresh.token_hash  # only the keyed hash is stored
    assert refresh.rotated_at is None
    # Counted as failed before the password check, then uncounted by the success.
    [attempt] = store.login_attempts.values()
    assert (attempt.succeeded, attempt.account_key) == (True, account_key(EMAIL))


async def test_success_commits_the_event_and_a_succeeded_audit(
    handler: LoginHandler, store: FakeStore, person: User
) -> None:
    pair = (await log_in(handler)).unwrap()
    assert [(type(e), e.user_id, e.session_id) for e in store.outbox] == [  # type: ignore[attr-defined]
        (UserLoggedIn, person.id, pair.session_id)
    ]
    [entry] = store.audit_log
    assert (entry.action, entry.outcome) == (
        AuditAction.USER_LOGIN_SUCCEEDED,
        AuditOutcome.SUCCEEDED,
    )
    assert (entry.resource_type, entry.resource_id) == (ResourceType.SESSION, pair.session_id)
    assert (entry.actor_id, entry.ip_address, entry.trace_id) == (
        person.id,
        "198.51.100.7",
        "trace-42",
    )
    assert PASSWORD not in repr(entry)
    assert pair.refresh_token not in repr(entry)


async def test_email_is_matched_case_and_space_insensitively(
    handler: LoginHandler, person: User
) -> None:
    assert isinstance(await log_in(handler, "  Person@EXAMPLE.com "), Success)


async def _closed(store: FakeStore, person: User) -> None:
    person.close(person.created_at)


async def _deactivated(store: FakeStore, person: User) -> None:
    person.is_active = False


@pytest.mark.parametrize(
    ("email", "password", "prepare", "reason", "known"),
    [
        (EMAIL, "wrong password entirely", None, "wrong_password", True),
        ("nobody@example.com", PASSWORD, None, "unknown_account", False),
        ("not-an-email", PASSWORD, None, "unknown_account", False),
        # The address of a closed account is anonymised: it is an unknown email now.
        (EMAIL, PASSWORD, _closed, "unknown_account", False),
        (EMAIL, PASSWORD, _deactivated, "account_disabled", True),
        (EMAIL, "wrong password entirely", _deactivated, "wrong_password", True),
    ],
    ids=["wrong-password", "unknown-email", "bad-email", "closed", "deactivated", "inactive-wrong"],
)
async def test_every_failure_looks_the_same_but_is_audited_with_its_reason(
    handler: LoginHandler,
    store: FakeStore,
    person: User,
    email: str,
    password: str,
    prepare: object,
    reason: str,
    known: bool,
) -> None:
    if prepare is not None:
        await prepare(store, person)  # type: ignore[operator]
    result = await log_in(handler, email, password)
    assert result == Failure(AuthenticationError(INVALID_CREDENTIALS, code="invalid_credentials"))

    [entry] = store.audit_log
    assert (entry.action, entry.outcome, entry.reason) == (
        AuditAction.USER_LOGIN_FAILED,
        AuditOutcome.FAILED,
        reason,
    )
    assert (entry.ip_address, entry.user_agent) == ("198.51.100.7", "pytest/1.0")
    assert entry.resource_id == (person.id if known else None)
    if email == "not-an-email":
        assert dict(entry.metadata) == {
            "email_valid": False,
            "email_digest": FakeIdentifierDigest().digest(email),
        }
    else:
        assert dict(entry.metadata) == {"email": email.strip().lower()}
    assert password not in repr(entry)
    [event] = store.outbox
    assert isinstance(event, UserLoginFailed)
    assert (event.user_id, event.reason) == (person.id if known else None, reason)
    [attempt] = store.login_attempts.values()
    assert (attempt.succeeded, attempt.account_key, attempt.ip_address) == (
        False,
        account_key(email),
        "198.51.100.7",
    )
    assert store.sessions == {}
    assert store.refresh_tokens == {}


async def test_a_closed_account_placeholder_address_cannot_log_in(
    handler: LoginHandler, store: FakeStore, person: User, hasher: FakePasswordHasher
) -> None:
    person.close(person.created_at)
    error = error_of(await log_in(handler, person.email.value, PASSWORD))
    assert error.code == "invalid_credentials"
    assert store.audit_log[0].reason == "unknown_account"
    assert hasher.verify_calls == 1  # the dummy check, never the sentinel hash


async def test_unknown_email_runs_the_dummy_check_like_a_real_one(
    handler: LoginHandler, person: User, hasher: FakePasswordHasher
) -> None:
    error_of(await log_in(handler, "nobody@example.com"))
    assert (hasher.hash_calls, hasher.verify_calls) == (1, 1)  # dummy hash made once, lazily
    error_of(await log_in(handler, "ghost@example.com"))
    assert (hasher.hash_calls, hasher.verify_calls) == (1, 2)
    error_of(await log_in(handler, EMAIL, "wrong password entirely"))
    assert (hasher.hash_calls, hasher.verify_calls) == (1, 3)  # known: one verify, no hash


async def test_an_outdated_hash_is_upgraded_on_log_in(
    handler: LoginHandler, store: FakeStore, hasher: FakePasswordHasher
) -> None:
    user = user_with_password(EMAIL)
    user.password_hash = LEGACY_PREFIX + PASSWORD[::-1]
    store.seed(user)
    (await log_in(handler)).unwrap()
    stored = store.users[user.id]
    assert stored.password_hash == PREFIX + PASSWORD[::-1]
    assert stored.version == 2
    assert hasher.hash_calls == 1


async def test_a_current_hash_is_left_alone(
    handler: LoginHandler, store: FakeStore, person: User, hasher: FakePasswordHasher
) -> None:
    (await log_in(handler)).unwrap()
    assert store.users[person.id].version == 1
    assert hasher.hash_calls == 0


@pytest.mark.parametrize(
    "operation",
    ["sessions.add", "refresh_tokens.add", "login_attempts.add", "login_attempts.count_as_success"],
)
async def test_a_storage_failure_on_success_leaves_nothing_but_a_failed_audit(
    handler: LoginHandler, store: FakeStore, person: User, operation: str
) -> None:
    store.faults.fail_next(operation, DatabaseError("gone", code="database_unavailable"))
    error = error_of(await log_in(handler))
    assert error.code == "database_unavailable"
    assert (store.sessions, store.refresh_tokens, store.outbox) == ({}, {}, [])
    # The attempt is counted (as failed) before the password is checked; when that very
    # write fails, nothing is stored at all.
    counted = [a.succeeded for a in store.login_attempts.values()]
    assert counted == ([] if operation == "login_attempts.add" else [False])
    [entry] = store.audit_log
    assert (entry.outcome, entry.reason, entry.resource_id) == (
        AuditOutcome.FAILED,
        "database_unavailable",
        person.id,
    )


async def test_a_failed_commit_issues_no_tokens(
    handler: LoginHandler, store: FakeStore, person: User
) -> None:
    store.fail_next_commit(DatabaseError("gone", code="database_unavailable"))
    assert error_of(await log_in(handler)).code == "database_unavailable"
    assert store.sessions == {}
    assert [e.outcome for e in store.audit_log] == [AuditOutcome.FAILED]


async def test_a_failed_lookup_is_reported_and_audited(
    handler: LoginHandler, store: FakeStore, person: User
) -> None:
    store.faults.fail_next("find_by_email", DatabaseError("gone", code="database_unavailable"))
    assert error_of(await log_in(handler)).code == "database_unavailable"
    assert [e.reason for e in store.audit_log] == ["database_unavailable"]


async def test_an_attempt_that_cannot_be_counted_is_refused_and_audited(
    handler: LoginHandler, store: FakeStore, person: User, hasher: FakePasswordHasher
) -> None:
    store.fail_next_commit(DatabaseError("gone", code="database_unavailable"))
    assert error_of(await log_in(handler, EMAIL, "wrong password entirely")).code == (
        "database_unavailable"
    )
    # Fail closed: without a counted attempt the password is not even checked.
    assert hasher.verify_calls == 0
    assert [(e.outcome, e.reason) for e in store.audit_log] == [
        (AuditOutcome.FAILED, "database_unavailable")
    ]
