"""PostgreSQL misbehaving under the real app: every answer is bounded, typed and never a 500.

Small timeouts keep each test fast; the bounds asserted are generous multiples of them (each
fault would otherwise hang a request for as long as it lasts).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from dashtam.core.config import Settings
from tests.api.finance_support import sign_up
from tests.api.support import PASSWORD, USERS_URL, FastContainer, assert_problem, running
from tests.databases import PostgresServer
from tests.faults import TcpProxy

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])

ME_URL = "/api/v1/users/me"
FAST = {
    "DB_CONNECT_TIMEOUT": 1.0,
    "DB_POOL_TIMEOUT": 0.5,
    "DB_COMMAND_TIMEOUT": 1.0,
    "DB_STATEMENT_TIMEOUT": 5.0,
    "DB_POOL_SIZE": 3,
}
# Worst case of one request under a silent partition: a few round trips, each ending at the
# command or connect timeout, plus the driver's graceful close. Without timeouts: forever.
REQUEST_BOUND_SECONDS = 15.0
READY_BOUND_SECONDS = 4.0


def fast_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "DATABASE_URL": url,
        "DASHTAM_ENV": "test",
        "LOG_LEVEL": "WARNING",
        "DASHTAM_AUDIT_SEAL_INTERVAL": 0,
        **FAST,
        **overrides,
    }
    return Settings(**values)


async def admin_execute(server: PostgresServer, sql: str, *args: object) -> None:
    connection = await asyncpg.connect(server.admin_url.replace("+asyncpg", "", 1))
    try:
        await connection.execute(sql, *args)
    finally:
        await connection.close()


async def terminate_backends(server: PostgresServer, database: str) -> None:
    """End every backend of ``database`` and return once they have exited."""
    await admin_execute(
        server,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    connection = await asyncpg.connect(server.admin_url.replace("+asyncpg", "", 1))
    try:
        for _ in range(200):
            left = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
                "pg_backend_pid()",
                database,
            )
            if left == 0:
                return
            await asyncio.sleep(0.01)
    finally:
        await connection.close()


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, status=503, code="database_unavailable")
    assert int(response.headers["retry-after"]) > 0


@pytest.fixture
def server(postgres_server: PostgresServer) -> PostgresServer:
    return postgres_server


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of this test's database, and the URL that goes through it."""
    url = make_url(database_url)
    tcp = TcpProxy()
    port = tcp.start(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield tcp, url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        tcp.close()


@pytest.fixture
async def app_client(
    request: pytest.FixtureRequest, database_url: str
) -> AsyncIterator[Callable[..., Any]]:
    """Starts the real app on ``url`` with fast timeouts; stopped at the end of the test."""
    stack: list[Any] = []

    async def start(url: str, **overrides: Any) -> tuple[FastContainer, httpx.AsyncClient]:
        container = FastContainer(fast_settings(url, **overrides))
        context = running(container)
        _app, client = await context.__aenter__()
        stack.append(context)
        return container, client

    yield start
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


async def test_silent_partition_answers_503_within_the_bound_then_recovers(
    proxy: tuple[TcpProxy, str], app_client: Callable[..., Any]
) -> None:
    tcp, url = proxy
    _container, client = await app_client(url)
    headers = await sign_up(client, "partition@example.com")
    tcp.pause()

    async with asyncio.timeout(REQUEST_BOUND_SECONDS * 3):
        (
            (me, me_seconds),
            (register, register_seconds),
            (ready, ready_seconds),
        ) = await asyncio.gather(
            timed(client.get(ME_URL, headers=headers)),
            timed(client.post(USERS_URL, json={"email": "new@example.com", "password": PASSWORD})),
            timed(client.get("/ready")),
        )

    assert_unavailable(me)
    assert_unavailable(register)
    assert_unavailable(ready)
    assert me_seconds < REQUEST_BOUND_SECONDS
    assert register_seconds < REQUEST_BOUND_SECONDS
    assert ready_seconds < READY_BOUND_SECONDS

    tcp.resume()
    assert (await client.get(ME_URL, headers=headers)).status_code == 200
    assert (await client.get("/ready")).status_code == 200


async def test_ready_stays_quick_while_the_network_is_silent(
    proxy: tuple[TcpProxy, str], app_client: Callable[..., Any]
) -> None:
    tcp, url = proxy
    _container, client = await app_client(url, DB_CONNECT_TIMEOUT=10.0, DB_COMMAND_TIMEOUT=10.0)
    tcp.pause()

    # The probe outlives these calls (its own bounds are 10 s): each answers on time anyway.
    for _ in range(3):
        response, seconds = await timed(client.get("/ready"))
        assert_unavailable(response)
        assert seconds < READY_BOUND_SECONDS
    tcp.resume()


async def test_refusing_database_is_503_and_recovers(
    server: PostgresServer, database_url: str, app_client: Callable[..., Any]
) -> None:
    _container, client = await app_client(database_url)
    headers = await sign_up(client, "refused@example.com")
    name = make_url(database_url).database
    await admin_execute(server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        # Pooled connections would still work: end them so every request needs a new one.
        await terminate_backends(server, str(name))
        me = await client.get(ME_URL, headers=headers)
        register = await client.post(
            USERS_URL, json={"email": "late@example.com", "password": PASSWORD}
        )
        ready = await client.get("/ready")
    finally:
        await admin_execute(server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

    assert_unavailable(me)
    assert_unavailable(register)
    assert_unavailable(ready)
    assert (await client.get(ME_URL, headers=headers)).status_code == 200


async def test_backends_terminated_between_requests_are_replaced(
    server: PostgresServer, database_url: str, app_client: Callable[..., Any]
) -> None:
    _container, client = await app_client(database_url)
    headers = await sign_up(client, "between@example.com")

    await terminate_backends(server, str(make_url(database_url).database))

    assert (await client.get(ME_URL, headers=headers)).status_code == 200
    registered = await client.post(
        USERS_URL, json={"email": "after@example.com", "password": PASSWORD}
    )
    assert registered.status_code == 201, registered.text


async def test_backends_terminated_mid_request_never_give_a_500(
    server: PostgresServer, database_url: str, app_client: Callable[..., Any]
) -> None:
    _container, client = await app_client(database_url)
    headers = await sign_up(client, "midway@example.com")
    name = str(make_url(database_url).database)

    async def killer() -> None:
        for _ in range(5):
            await asyncio.sleep(0.02)
            await terminate_backends(server, name)

    async def load(index: int) -> list[httpx.Response]:
        return [
            await client.get(ME_URL, headers=headers),
            await client.post(
                USERS_URL, json={"email": f"load{index}@example.com", "password": PASSWORD}
            ),
        ]

    results = await asyncio.gather(killer(), *(load(i) for i in range(8)))
    responses = [response for batch in results[1:] if batch for response in batch]

    for response in responses:
        if response.status_code >= 500:
            assert_unavailable(response)
        else:
            assert response.status_code in (200, 201), response.text
    assert (await client.get(ME_URL, headers=headers)).status_code == 200


async def test_exhausted_pool_is_503_after_the_pool_timeout(
    database_url: str, app_client: Callable[..., Any]
) -> None:
    container, client = await app_client(database_url, DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0)
    headers = await sign_up(client, "pool@example.com")

    database = container.database
    # Reads have a pool of their own on PostgreSQL: hold the only connection of each.
    async with database.engine.connect() as held, database.read_engine.connect() as read:
        await held.exec_driver_sql("SELECT 1")
        await read.exec_driver_sql("SELECT 1")
        me, seconds = await timed(client.get(ME_URL, headers=headers))
        ready = await client.get("/ready")

    assert_unavailable(me)
    assert 0.5 <= seconds < REQUEST_BOUND_SECONDS
    # The database itself is fine: readiness does not queue behind the busy pool.
    assert ready.status_code == 200, ready.text
    assert (await client.get(ME_URL, headers=headers)).status_code == 200
