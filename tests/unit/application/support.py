"""Builders shared by the identity handler tests."""

from __future__ import annotations

from dataclasses import replace

from dashtam.application.auth.commands import LogIn, TokenPair
from dashtam.application.auth.login import LoginHandler
from dashtam.application.auth.revoked_use import RevokedTokenUse
from dashtam.application.auth.sessions import AuthenticateHandler
from dashtam.application.auth.timing import DummyPasswordCheck
from dashtam.application.personal_tokens.authenticate import PersonalTokenAuthenticator
from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result
from dashtam.domain.auth.entities import ThrottlePolicy
from dashtam.infrastructure.security.personal_tokens import HmacPersonalTokenCodec
from dashtam.infrastructure.security.second_factor import RandomMfaSecrets
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.identifiers import FakeIdentifierDigest
from tests.fakes.token_usage import RecordingTokenUsage
from tests.unit.application.conftest import CONTEXT, PASSWORD, SECRET

EMAIL = "person@example.com"


def login_handler(
    store: FakeStore,
    hasher: FakePasswordHasher,
    tokens: JwtTokenService,
    logger: RecordingLogger,
    clock: FakeClock,
    throttle: ThrottlePolicy | None = None,
    identifier_digest: FakeIdentifierDigest | None = None,
) -> LoginHandler:
    return LoginHandler(
        uow_factory=store.uow,
        hasher=hasher,
        tokens=tokens,
        dummy_check=DummyPasswordCheck(hasher),
        identifier_digest=identifier_digest or FakeIdentifierDigest(),
        logger=logger,
        mfa_secrets=RandomMfaSecrets(secret_key="unit-test-secret"),
        throttle=throttle,
        clock=clock,
    )


async def log_in(
    handler: LoginHandler,
    email: str = EMAIL,
    password: str = PASSWORD,
    *,
    ip: str | None = CONTEXT.ip_address,
) -> Result[TokenPair, Error]:
    context = replace(CONTEXT, ip_address=ip)
    return await handler.handle(LogIn(email=email, password=password, context=context))


def error_of(result: Result[object, Error]) -> Error:
    assert isinstance(result, Failure), f"expected a Failure, got {result!r}"
    return result.error


def authenticate_handler(
    store: FakeStore,
    tokens: JwtTokenService,
    clock: FakeClock,
    *,
    usage: RecordingTokenUsage | None = None,
) -> AuthenticateHandler:
    """The handler as the container builds it, over the fakes (the codec is pure: real)."""
    revoked_use = RevokedTokenUse(uow_factory=store.uow, clock=clock)
    personal_tokens = PersonalTokenAuthenticator(
        uow_factory=store.uow,
        codec=HmacPersonalTokenCodec(secret_key=SECRET),
        usage=usage or RecordingTokenUsage(),
        revoked_use=revoked_use,
        clock=clock,
    )
    return AuthenticateHandler(
        uow_factory=store.uow,
        tokens=tokens,
        personal_tokens=personal_tokens,
        revoked_use=revoked_use,
        clock=clock,
    )
