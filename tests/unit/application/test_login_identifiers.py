"""Log-in under one canonical email: look-alikes share a counter, the trail keeps no raw text."""

# ruff: noqa: RUF001 - look-alike (fullwidth) characters are what these tests are about

from __future__ import annotations

import pytest

from dashtam.application.auth.login import LoginHandler
from dashtam.application.auth.throttle import account_key
from dashtam.core.errors import RateLimitedError
from dashtam.domain.users.entities import User
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.identifiers import FakeIdentifierDigest
from tests.unit.application.conftest import PASSWORD, user_with_password
from tests.unit.application.support import error_of, log_in, login_handler

EMAIL = "ada@example.com"
WRONG = "wrong password entirely"
# Each reaches the account of EMAIL: width, compatibility and case variants of it.
LOOK_ALIKES = [
    "ada@ｅxample.com",  # fullwidth letter in the domain
    "ＡＤＡ@example.com",  # fullwidth local part
    "ada＠example.com",  # fullwidth at-sign
    "ADA@EXAMPLE.COM",
    "ada@example。com",  # ideographic full stop
]


@pytest.fixture
def person(store: FakeStore) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    return user


@pytest.fixture
def digest() -> FakeIdentifierDigest:
    return FakeIdentifierDigest()


@pytest.fixture
def handler(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
    digest: FakeIdentifierDigest,
) -> LoginHandler:
    return login_handler(store, hasher, tokens, logger, clock, identifier_digest=digest)


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_every_spelling_of_an_address_has_the_same_account_key(spelling: str) -> None:
    assert account_key(spelling) == account_key(EMAIL)


async def test_look_alike_spellings_count_against_one_account(
    handler: LoginHandler, person: User, store: FakeStore
) -> None:
    for spelling in LOOK_ALIKES:  # five failures, each under a different spelling
        assert error_of(await log_in(handler, spelling, WRONG)).code == "invalid_credentials"
    # The account is locked for every spelling, the right password included.
    for spelling in [EMAIL, *LOOK_ALIKES]:
        assert isinstance(error_of(await log_in(handler, spelling, PASSWORD)), RateLimitedError)
    assert store.sessions == {}


async def test_a_look_alike_spelling_logs_in_to_the_same_account(
    handler: LoginHandler, person: User
) -> None:
    pair = (await log_in(handler, "ＡＤＡ@ｅxample.com", PASSWORD)).unwrap()
    assert pair.user_id == person.id


async def test_a_failed_log_in_records_the_canonical_address(
    handler: LoginHandler, person: User, store: FakeStore
) -> None:
    await log_in(handler, "ＡＤＡ@ｅxample.com", WRONG)
    assert dict(store.audit_log[0].metadata) == {"email": EMAIL}


@pytest.mark.parametrize(
    "typed",
    [
        "my secret passphrase 2024",  # typed in the wrong field
        "ada\x00@example.com",
        "ada@example.com\x00",
        "\ud800@example.com",
        "x" * 5000,
    ],
    ids=["passphrase", "nul-local", "nul-trailing", "lone-surrogate", "huge"],
)
async def test_what_does_not_parse_leaves_only_a_marker_and_a_keyed_digest(
    handler: LoginHandler,
    person: User,
    store: FakeStore,
    digest: FakeIdentifierDigest,
    typed: str,
) -> None:
    error = error_of(await log_in(handler, typed, PASSWORD))
    assert error.code == "invalid_credentials"

    [entry] = store.audit_log
    assert entry.reason == "unknown_account"
    assert dict(entry.metadata) == {"email_valid": False, "email_digest": digest.digest(typed)}
    assert typed not in repr(entry)
    assert "\x00" not in repr(entry.metadata)
