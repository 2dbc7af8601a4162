"""The session, refresh-token, log-in-attempt and personal-token contracts on the fakes, SQLite
and PostgreSQL."""

from __future__ import annotations

from tests.contracts.auth_contract import (
    LoginAttemptRepositoryContract,
    RefreshTokenRepositoryContract,
)
from tests.contracts.personal_token_contract import PersonalTokenRepositoryContract
from tests.contracts.repositories import FakeBackend, SqlBackend
from tests.contracts.session_repository_contract import SessionRepositoryContract


class TestFakeSessionRepository(FakeBackend, SessionRepositoryContract):
    pass


class TestSqlSessionRepository(SqlBackend, SessionRepositoryContract):
    pass


class TestFakeRefreshTokenRepository(FakeBackend, RefreshTokenRepositoryContract):
    pass


class TestSqlRefreshTokenRepository(SqlBackend, RefreshTokenRepositoryContract):
    pass


class TestFakeLoginAttemptRepository(FakeBackend, LoginAttemptRepositoryContract):
    pass


class TestSqlLoginAttemptRepository(SqlBackend, LoginAttemptRepositoryContract):
    pass


class TestFakePersonalTokenRepository(FakeBackend, PersonalTokenRepositoryContract):
    pass


class TestSqlPersonalTokenRepository(SqlBackend, PersonalTokenRepositoryContract):
    pass
