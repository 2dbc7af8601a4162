"""Fixtures for application tests: the in-memory store, a fast hasher, a recording logger."""

from __future__ import annotations

import pytest

from dashtam.domain.users.entities import User
from dashtam.domain.users.value_objects import Email, Role
from tests.fakes import FakePasswordHasher, FakeStore, RecordingLogger


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def logger() -> RecordingLogger:
    return RecordingLogger()


def make_user(email: str, *, role: Role = Role.USER) -> User:
    return User(email=Email.parse(email).unwrap(), password_hash="fake$x", role=role)
