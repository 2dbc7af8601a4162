"""PersonalTokenHandlers: create, revoke and list personal access tokens, each write audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashtam.application.personal_tokens.commands import (
    CreatePersonalToken,
    IssuedPersonalToken,
    ListPersonalTokens,
    RevokePersonalToken,
)
from dashtam.application.personal_tokens.handlers import PersonalTokenHandlers
from dashtam.core.errors import ConflictError, Error, NotFoundError, ValidationError
from dashtam.core.ids import new_id
from dashtam.core.result import Result
from dashtam.domain.audit import AuditAction, AuditOutcome, ResourceType
from dashtam.domain.personal_tokens.entities import MAX_ACTIVE_TOKENS_PER_USER, TokenScope
from dashtam.domain.personal_tokens.events import PersonalTokenCreated, PersonalTokenRevoked
from dashtam.domain.users.entities import User
from dashtam.infrastructure.security.personal_tokens import HmacPersonalTokenCodec
from tests.fakes import FakeClock, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT, SECRET, user_with_password
from tests.unit.application.support import EMAIL, error_of

CREATED = AuditAction.PERSONAL_TOKEN_CREATED
REVOKED = AuditAction.PERSONAL_TOKEN_REVOKED


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def stranger(store: FakeStore) -> User:
    user = user_with_password("stranger@example.com")
    store.seed(user)
    return user


@pytest.fixture
def handlers(store: FakeStore, logger: RecordingLogger, clock: FakeClock) -> PersonalTokenHandlers:
    return PersonalTokenHandlers(
        uow_factory=store.uow,
        read_uow_factory=store.uow,
        codec=HmacPersonalTokenCodec(secret_key=SECRET),
        logger=logger,
        clock=clock,
    )


async def create(
    handlers: PersonalTokenHandlers,
    user: User,
    *,
    name: str = "nightly export",
    scopes: tuple[str, ...] = ("read",),
    days: int | None = None,
) -> Result[IssuedPersonalToken, Error]:
    command = CreatePersonalToken(
        user_id=user.id, name=name, scopes=scopes, expires_in_days=days, context=CONTEXT
    )
    return await handlers.create(command)


async def revoke(
    handlers: PersonalTokenHandlers, user: User, token_id: object
) -> Result[None, Error]:
    command = RevokePersonalToken(user_id=user.id, token_id=token_id, context=CONTEXT)  # type: ignore[arg-type]
    return await handlers.revoke(command)


# -- create ----------------------------------------------------------------------------------


async def test_create_stores_only_the_digest_and_answers_the_token_once(
    handlers: PersonalTokenHandlers, store: FakeStore, person: User, clock: FakeClock
) -> None:
    issued = (await create(handlers, person, scopes=("read", "import", "read"), days=90)).unwrap()

    token = issued.token
    assert issued.text.startswith("dtm_pat_")
    assert token.scopes == {TokenScope.READ, TokenScope.IMPORT}
    assert (token.created_at, token.expires_at) == (clock(), clock() + timedelta(days=90))
    assert token.token_hint == issued.text[-4:]
    stored = store.personal_tokens[token.id]
    assert stored.token_hash == HmacPersonalTokenCodec(secret_key=SECRET).digest(issued.text)
    assert issued.text not in repr(store)
    [entry] = store.audit_entries(action=CREATED)
    assert (entry.outcome, entry.resource_type, entry.resource_id) == (
        AuditOutcome.SUCCEEDED,
        ResourceType.PERSONAL_TOKEN,
        token.id,
    )
    assert entry.actor_id == person.id
    assert dict(entry.metadata) == {
        "name": "nightly export",
        "scopes": ["import", "read"],
        "expires_at": token.expires_at.isoformat(),
    }
    [event] = store.events_of(PersonalTokenCreated)
    assert event.payload() == {
        "user_id": str(person.id),
        "token_id": str(token.id),
        "scopes": ["import", "read"],
        "expires_at": token.expires_at.isoformat(),
    }


async def test_a_token_expires_in_30_days_unless_told_otherwise(
    handlers: PersonalTokenHandlers, person: User, clock: FakeClock
) -> None:
    token = (await create(handlers, person)).unwrap().token
    assert token.expires_at == clock() + timedelta(days=30)


@pytest.mark.parametrize(
    ("name", "scopes", "days", "code", "field"),
    [
        ("", ("read",), 30, "token_name_required", "name"),
        (" \t\ufeff", ("read",), 30, "token_name_required", "name"),
        ("x" * 101, ("read",), 30, "token_name_too_long", "name"),
        ("bad\x00name", ("read",), 30, "token_name_invalid", "name"),
        ("bad\x85name", ("read",), 30, "token_name_invalid", "name"),
        ("ok", (), 30, "scopes_required", "scopes"),
        ("ok", ("read", "admin"), 30, "unknown_scope", "scopes"),
        ("ok", ("read",), 0, "invalid_token_lifetime", "expires_in_days"),
        ("ok", ("read",), 366, "invalid_token_lifetime", "expires_in_days"),
        ("ok", ("read",), -(10**30), "invalid_token_lifetime", "expires_in_days"),
    ],
)
async def test_invalid_input_is_refused_and_the_attempt_recorded(
    handlers: PersonalTokenHandlers,
    store: FakeStore,
    person: User,
    name: str,
    scopes: tuple[str, ...],
    days: int,
    code: str,
    field: str,
) -> None:
    error = error_of(await create(handlers, person, name=name, scopes=scopes, days=days))

    assert isinstance(error, ValidationError)
    assert (error.code, error.details["field"]) == (code, field)
    assert store.personal_tokens == {}
    [entry] = store.audit_entries(action=CREATED)
    assert (entry.outcome, entry.reason, entry.actor_id) == (AuditOutcome.FAILED, code, person.id)
    assert store.outbox == []


async def test_names_may_hold_any_printable_text(
    handlers: PersonalTokenHandlers, person: User
) -> None:
    token = (await create(handlers, person, name="  Ünï 名前 ✓ ")).unwrap().token
    assert token.name == "  Ünï 名前 ✓ "
    assert (await create(handlers, person, name="x" * 100)).unwrap().token.name == "x" * 100


async def test_a_user_holds_at_most_50_active_tokens(
    handlers: PersonalTokenHandlers, store: FakeStore, person: User, stranger: User
) -> None:
    made = [(await create(handlers, person)).unwrap() for _ in range(MAX_ACTIVE_TOKENS_PER_USER)]

    error = error_of(await create(handlers, person))
    assert isinstance(error, ConflictError)
    assert error.code == "personal_token_limit_reached"
    assert store.audit_entries(action=CREATED, outcome=AuditOutcome.FAILED)[-1].reason == (
        "personal_token_limit_reached"
    )
    (await create(handlers, stranger)).unwrap()  # a limit per user
    (await revoke(handlers, person, made[0].token.id)).unwrap()
    (await create(handlers, person)).unwrap()  # a revoked token no longer counts


# -- revoke ----------------------------------------------------------------------------------


async def test_revoke_ends_my_token_once(
    handlers: PersonalTokenHandlers, store: FakeStore, person: User, clock: FakeClock
) -> None:
    token = (await create(handlers, person)).unwrap().token
    clock.advance(minutes=5)

    (await revoke(handlers, person, token.id)).unwrap()

    stored = store.personal_tokens[token.id]
    assert (stored.revoked_at, stored.revoked_reason) == (clock(), "revoked_by_user")
    [event] = store.events_of(PersonalTokenRevoked)
    assert event.payload() == {
        "user_id": str(person.id),
        "token_id": str(token.id),
        "reason": "revoked_by_user",
    }
    [entry] = store.audit_entries(action=REVOKED)
    assert (entry.outcome, entry.resource_id, entry.actor_id) == (
        AuditOutcome.SUCCEEDED,
        token.id,
        person.id,
    )
    # Again: nothing more to do, nothing more to record.
    (await revoke(handlers, person, token.id)).unwrap()
    assert len(store.audit_entries(action=REVOKED)) == 1
    assert store.personal_tokens[token.id].revoked_at == stored.revoked_at


async def test_someone_elses_token_is_not_found_like_a_missing_one(
    handlers: PersonalTokenHandlers, store: FakeStore, person: User, stranger: User
) -> None:
    theirs = (await create(handlers, stranger)).unwrap().token

    for token_id in (theirs.id, new_id()):
        error = error_of(await revoke(handlers, person, token_id))
        assert isinstance(error, NotFoundError)
        assert error.message == "personal access token not found"

    assert store.personal_tokens[theirs.id].revoked_at is None
    failed = store.audit_entries(action=REVOKED, outcome=AuditOutcome.FAILED)
    assert [(e.resource_id, e.reason) for e in failed] == [
        (theirs.id, "not_found"),
        (failed[1].resource_id, "not_found"),
    ]


# -- list ------------------------------------------------------------------------------------


async def test_list_shows_my_tokens_newest_first_page_by_page(
    handlers: PersonalTokenHandlers, person: User, stranger: User
) -> None:
    mine = [(await create(handlers, person, name=f"t{n}")).unwrap().token for n in range(3)]
    (await create(handlers, stranger)).unwrap()
    (await revoke(handlers, person, mine[0].id)).unwrap()

    first = await handlers.list_tokens(ListPersonalTokens(user_id=person.id, limit=2))
    assert [t.name for t in first.unwrap()] == ["t2", "t1"]
    rest = await handlers.list_tokens(
        ListPersonalTokens(user_id=person.id, after=first.unwrap()[-1].id, limit=2)
    )
    [oldest] = rest.unwrap()
    assert (oldest.name, oldest.revoked_reason) == ("t0", "revoked_by_user")
