"""Helpers for the API tests: a cheap-hashing container, a running app, database look-ups."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any, TypeVar
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.application.users.commands import RegisterUser
from dashtam.bootstrap import Container
from dashtam.core.config import get_settings
from dashtam.core.result import Success
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.persistence.base import BaseModel
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from dashtam.infrastructure.security.password_hasher import Argon2PasswordHasher
from dashtam.presentation.api.app import create_app
from dashtam.presentation.cli.main import app as cli_app

ModelT = TypeVar("ModelT", bound=BaseModel)

PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "trace_id"}


class FastContainer(Container):
    """The real container with the real argon2id adapter, tuned down so tests stay fast."""

    @cached_property
    def password_hasher(self) -> PasswordHasher:
        return Argon2PasswordHasher(memory_cost_kib=8, time_cost=1)


class UndeliveredContainer(FastContainer):
    """Commits outbox rows but never delivers them: a process that died right after commit."""

    def unit_of_work(self) -> UnitOfWork:
        return SqlUnitOfWork(
            database=self.database,
            logger=self.logger("dashtam.uow"),
            signer=self.audit_signer,
            on_committed=None,
        )


def make_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@asynccontextmanager
async def running(container: Container) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real app around ``container``, started (lifespan) and stopped around the block."""
    app = create_app(container, configure_logs=False)
    async with app.router.lifespan_context(app), make_client(app) as client:
        yield app, client


async def fetch(container: Container, model: type[ModelT], *criteria: Any) -> Sequence[ModelT]:
    """Rows of ``model`` matching ``criteria``, oldest first, read in their own session."""
    async with container.database.get_session() as session:
        query = select(model).where(*criteria).order_by(model.created_at, model.id)
        return (await session.scalars(query)).all()


def assert_problem(response: httpx.Response, *, status: int, code: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    assert body["trace_id"] == response.headers["x-request-id"]
    return body


# --- identity and access -------------------------------------------------------------------

USERS_URL = "/api/v1/users"
ME_URL = "/api/v1/users/me"
SESSIONS_URL = "/api/v1/sessions"
TOKENS_URL = "/api/v1/tokens"
PERSONAL_TOKENS_URL = "/api/v1/tokens/personal"
ADMIN_USERS_URL = "/api/v1/admin/users"
PASSWORD = "a long passphrase"


async def create_user(
    container: Container, email: str, password: str = PASSWORD, *, role: Role = Role.USER
) -> UUID:
    """A registered user (through the real handler, so it is audited like any other)."""
    command = RegisterUser(email=email, password=password, role=role)
    result = await container.register_user_handler().handle(command)
    assert isinstance(result, Success), result
    return result.value.id


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    """A client whose requests come from ``ip`` (the ASGI ``client`` address)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(SESSIONS_URL, json={"email": email, "password": password})


async def tokens_for(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """A successful log-in's body (access and refresh tokens)."""
    response = await log_in(client, email, password)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {access_token}"}


def assert_unauthorized(response: httpx.Response, *, code: str) -> dict[str, Any]:
    """A 401 problem carrying an RFC 6750 ``WWW-Authenticate: Bearer`` challenge."""
    body = assert_problem(response, status=401, code=code)
    assert response.headers["www-authenticate"].startswith("Bearer"), response.headers
    return body


async def dashtam(database_url: str, *args: str) -> tuple[int, str, str]:
    """Runs the CLI in a worker thread (it calls ``asyncio.run``) with the test database."""
    env = {"DATABASE_URL": database_url, "DASHTAM_ENV": "test", "LOG_LEVEL": "WARNING"}

    def invoke() -> tuple[int, str, str]:
        get_settings.cache_clear()
        result = CliRunner().invoke(cli_app, list(args), env=env)
        return result.exit_code, result.stdout, result.stderr

    return await asyncio.to_thread(invoke)
