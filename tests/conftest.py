"""Shared fixtures: a migrated, throw-away database per test, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dashtam.core.config import Settings
from dashtam.infrastructure.persistence.database import Database
from tests.databases import (
    ClonePool,
    PostgresServer,
    find_postgres,
    migrate,
    run_blocking,
    unique_name,
)
from tests.webhook_receiver import Receiver, receiving

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with find_postgres() as server:
        if server is None:
            message = "PostgreSQL not found (TEST_DATABASE_URL, 127.0.0.1:5432, pg_ctl on PATH)"
            if os.environ.get("DASHTAM_REQUIRE_POSTGRES") == "1":
                pytest.fail(message + " and DASHTAM_REQUIRE_POSTGRES=1")
            pytest.skip(message)
        yield server


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A database migrated once per session; each test clones it (CREATE DATABASE ... TEMPLATE)."""
    name = unique_name("dashtam_tpl")
    url = run_blocking(postgres_server.create_database(name))
    try:
        migrate(url)
        yield name
    finally:
        run_blocking(postgres_server.drop_database(name))


@pytest.fixture(scope="session")
def postgres_clones(postgres_server: PostgresServer, postgres_template: str) -> Iterator[ClonePool]:
    pool = ClonePool(postgres_server, postgres_template)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    backend_name: str = request.param
    return backend_name


@pytest.fixture
async def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of a fresh, fully migrated database for this test only."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    clones: ClonePool = request.getfixturevalue("postgres_clones")
    name = await asyncio.to_thread(clones.take)
    try:
        yield server.url_for(name)
    finally:
        clones.give_back(name)


@pytest.fixture
async def empty_database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of a fresh database with no tables (for migration tests)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = unique_name("dashtam_e")
    url = await server.create_database(name)
    try:
        yield url
    finally:
        await server.drop_database(name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        DATABASE_URL=database_url, DASHTAM_ENV="test", LOG_LEVEL="WARNING", DB_POOL_SIZE=5
    )


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=5)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that checks signatures (``tests/webhook_receiver.py``)."""
    with receiving() as started:
        yield started
