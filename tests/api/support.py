"""Helpers for the API tests: a cheap-hashing container, a running app, database look-ups."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from dashtam.application.unit_of_work import UnitOfWork
from dashtam.core.container import Container
from dashtam.domain.protocols.password_hasher import PasswordHasher
from dashtam.infrastructure.persistence.base import BaseModel
from dashtam.infrastructure.persistence.unit_of_work import SqlUnitOfWork
from dashtam.infrastructure.security.password_hasher import Argon2PasswordHasher
from dashtam.presentation.api.app import create_app

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
            database=self.database, logger=self.logger("dashtam.uow"), on_committed=None
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
