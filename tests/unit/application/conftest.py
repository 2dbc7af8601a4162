"""Fixtures for application tests: the in-memory store, a fast hasher, a recording logger."""

from __future__ import annotations

import pytest

from dashtam.domain.audit import AuditContext
from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email, Role
from dashtam.infrastructure.security.tokens import JwtTokenService
from tests.fakes import FakeClock, FakePasswordHasher, FakeStore, RecordingLogger
from tests.fakes.security import PREFIX

PASSWORD = "correct horse battery staple"
SECRET = "unit-test-secret-" + "k" * 48
CONTEXT = AuditContext(ip_address="198.51.100.7", user_agent="pytest/1.0", trace_id="trace-42")


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def logger() -> RecordingLogger:
    return RecordingLogger()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tokens() -> JwtTokenService:
    """The real token service: it is pure (no I/O), so there is nothing to fake."""
    return JwtTokenService(secret_key=SECRET)


def make_user(email: str, *, role: Role = Role.USER) -> User:
    return User(email=Email.parse(email).unwrap(), password_hash="fake$x", role=role)


def user_with_password(
    email: str, password: str = PASSWORD, *, role: Role = Role.USER, is_active: bool = True
) -> User:
    """A user whose stored hash ``FakePasswordHasher`` verifies against ``password``."""
    return User(
        email=Email.parse(email).unwrap(),
        password_hash=PREFIX + password[::-1],
        role=role,
        is_active=is_active,
    )
