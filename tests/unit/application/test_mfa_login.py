"""The two-step log-in with fakes: tickets, codes once, races, the shared throttle."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pyotp
import pytest

from dashtam.application.auth.commands import CompleteMfaLogIn, LogIn, MfaRequired, TokenPair
from dashtam.application.auth.login import LoginHandler
from dashtam.application.auth.mfa_login import CompleteMfaLoginHandler
from dashtam.application.auth.second_factor import RecoveryCodeCheck, TotpCheck, totp_context
from dashtam.application.auth.timing import DummyPasswordCheck
from dashtam.core.errors import AuthenticationError, RateLimitedError
from dashtam.core.result import Failure, Success
from dashtam.domain.audit import AuditAction, AuditOutcome
from dashtam.domain.auth.second_factor import TotpFactor
from dashtam.domain.users.entities import User
from dashtam.infrastructure.security.second_factor import PyotpTotp, RandomMfaSecrets
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.unit.application.conftest import CONTEXT, PASSWORD, user_with_password
from tests.unit.application.support import EMAIL, login_handler
from tests.unit.security.support import OLD_KEY, cipher

SECRET = pyotp.random_base32(32)
MFA_SECRETS = RandomMfaSecrets(secret_key="unit-test-secret")  # as login_handler's


@pytest.fixture
def person(store: FakeStore, clock: FakeClock) -> User:
    user = user_with_password(EMAIL)
    store.seed(user)
    sealed = cipher(OLD_KEY).seal(SECRET, context=totp_context(user.id))
    store.totp_factors[user.id] = TotpFactor(
        user_id=user.id, sealed_secret=sealed, confirmed_at=clock()
    )
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
def second_step(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
) -> CompleteMfaLoginHandler:
    return CompleteMfaLoginHandler(
        uow_factory=store.uow,
        tokens=tokens,
        totp=TotpCheck(totp=PyotpTotp(), cipher=cipher(OLD_KEY)),
        mfa_secrets=MFA_SECRETS,
        recovery_codes=RecoveryCodeCheck(
            secrets=MFA_SECRETS, hasher=hasher, dummy_check=DummyPasswordCheck(hasher)
        ),
        logger=logger,
        clock=clock,
    )


async def ticket(login: LoginHandler) -> str:
    outcome = (await login.handle(LogIn(email=EMAIL, password=PASSWORD, context=CONTEXT))).unwrap()
    assert isinstance(outcome, MfaRequired)
    return outcome.mfa_ticket


def code(clock: FakeClock, steps: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(clock() + timedelta(seconds=30 * steps))


async def complete(
    handler: CompleteMfaLoginHandler, mfa_ticket: str, totp: str
) -> Failure[object] | Success[TokenPair]:
    return await handler.handle(  # type: ignore[return-value]
        CompleteMfaLogIn(mfa_ticket=mfa_ticket, code=totp, context=CONTEXT)
    )


@pytest.mark.usefixtures("person")
async def test_the_password_alone_opens_no_session_and_resets_no_count(
    login: LoginHandler, store: FakeStore
) -> None:
    await ticket(login)
    assert store.sessions == {}
    assert [a.succeeded for a in store.login_attempts.values()] == []
    [challenge] = store.mfa_challenges.values()
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=5)


async def test_a_code_completes_the_log_in_with_a_second_factor_session(
    login: LoginHandler,
    second_step: CompleteMfaLoginHandler,
    store: FakeStore,
    clock: FakeClock,
    person: User,
) -> None:
    pair = (await complete(second_step, await ticket(login), code(clock))).unwrap()
    session = store.sessions[pair.session_id]
    assert (session.user_id, session.second_factor) == (person.id, True)
    assert [a.succeeded for a in store.login_attempts.values()] == [True]
    [entry] = store.audit_entries(action=AuditAction.USER_LOGIN_SUCCEEDED)
    assert entry.metadata["second_factor"] == "totp"


@pytest.mark.usefixtures("person")
async def test_two_requests_racing_with_one_code_open_one_session(
    login: LoginHandler,
    second_step: CompleteMfaLoginHandler,
    store: FakeStore,
    clock: FakeClock,
) -> None:
    first, second = await ticket(login), await ticket(login)
    same = code(clock)
    results = await asyncio.gather(
        complete(second_step, first, same), complete(second_step, second, same)
    )
    assert sorted(isinstance(r, Success) for r in results) == [False, True]
    assert len(store.sessions) == 1


@pytest.mark.usefixtures("person")
async def test_wrong_codes_end_the_ticket_and_then_the_account_is_throttled(
    login: LoginHandler,
    second_step: CompleteMfaLoginHandler,
    store: FakeStore,
    clock: FakeClock,
) -> None:
    mfa_ticket = await ticket(login)
    for _ in range(5):
        refused = await complete(second_step, mfa_ticket, "000000")
        assert isinstance(refused, Failure)
        assert isinstance(refused.error, AuthenticationError)
        assert refused.error.code == "invalid_mfa_code"
    # The right code on the same ticket: the account's counter answers before anything else.
    throttled = await complete(second_step, mfa_ticket, code(clock))
    assert isinstance(throttled, Failure)
    assert isinstance(throttled.error, RateLimitedError)
    await password_step_is_throttled(login)
    failed = store.audit_entries(action=AuditAction.MFA_CHALLENGE_FAILED)
    assert [e.reason for e in failed][:5] == ["wrong_code"] * 5
    assert all(e.outcome is AuditOutcome.FAILED for e in failed)
    assert len(store.sessions) == 0


async def password_step_is_throttled(login: LoginHandler) -> None:
    """Wrong codes and wrong passwords share one counter."""
    outcome = await login.handle(LogIn(email=EMAIL, password=PASSWORD, context=CONTEXT))
    assert isinstance(outcome, Failure)
    assert isinstance(outcome.error, RateLimitedError)


@pytest.mark.usefixtures("person")
async def test_an_expired_ticket_is_refused(
    login: LoginHandler,
    second_step: CompleteMfaLoginHandler,
    clock: FakeClock,
) -> None:
    mfa_ticket = await ticket(login)
    clock.advance(minutes=5)
    refused = await complete(second_step, mfa_ticket, code(clock))
    assert isinstance(refused, Failure)
    assert refused.error.code == "mfa_ticket_expired"
