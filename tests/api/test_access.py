"""The access suite: every route of the app, enumerated from ``app.routes``, refuses strangers.

A new route fails ``test_every_route_is_known_to_the_access_suite`` until it is described in
``ROUTES`` below; from then on every check here covers it. The hand-written lists in
``test_auth_rejected_tokens.py`` and ``test_finance_ownership.py`` go deeper on their routes
(codes, audit records); this suite goes wide.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from uuid import UUID

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.domain.personal_tokens.entities import TokenScope
from dashtam.domain.users.value_objects import Role
from dashtam.infrastructure.security.tokens import JwtTokenService
from dashtam.presentation.api.dependencies import BEARER_DEPENDENCIES
from tests.api.finance_support import (
    accounts_of,
    connect,
    finance_row_counts,
    fixture_bytes,
    imported,
    sign_up,
)
from tests.api.support import (
    ME_URL,
    PASSWORD,
    PERSONAL_TOKENS_URL,
    FastContainer,
    assert_problem,
    assert_unauthorized,
    bearer,
    create_user,
    tokens_for,
)

Access = Literal["public", "user", "admin"]


@dataclass(frozen=True)
class World:
    """Ada owns data; Eve is another ordinary user; Root is an administrator."""

    ada: dict[str, str]
    eve: dict[str, str]
    root: dict[str, str]
    ada_user_id: str
    ada_session_id: str
    connection_id: str
    account_id: str
    transaction_id: str
    webhook_id: str
    personal_token_id: str
    secret: str
    ada_access_token: str
    secrets_of_ada: tuple[str, ...]  # strings that must never reach Eve


@dataclass(frozen=True)
class Call:
    """One request: a path with its ids filled in, and whatever else makes it otherwise valid."""

    path: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    access: Access
    # Requests against Ada's data: what Eve sends to probe the route's ownership check.
    calls: Callable[[World], list[Call]]
    # The path or query parameters that name something a user owns (404 for anyone else).
    owned_ids: frozenset[str] = frozenset()
    # Path parameters naming what every signed-in user may read (securities name no holder).
    shared_ids: frozenset[str] = frozenset()
    # The scope a personal access token needs here; None: personal tokens are refused.
    scope: TokenScope | None = None


def _one(path: str, **options: Any) -> Callable[[World], list[Call]]:
    return lambda w: [Call(path.format(**_ids(w)), options)]


def _ids(w: World) -> dict[str, str]:
    return {
        "session_id": w.ada_session_id,
        "user_id": w.ada_user_id,
        "connection_id": w.connection_id,
        "account_id": w.account_id,
        "transaction_id": w.transaction_id,
        "endpoint_id": w.webhook_id,
        "token_id": w.personal_token_id,
    }


def _upload(w: World) -> list[Call]:
    files = {"file": ("x.ofx", fixture_bytes("savings.qfx"), "application/octet-stream")}
    return [Call(f"/api/v1/connections/{w.connection_id}/imports", {"files": files})]


def _filtered(path: str) -> Callable[[World], list[Call]]:
    return lambda w: [Call(path), Call(path, {"params": {"account": w.account_id}})]


def _disconnect(w: World) -> list[Call]:
    path = f"/api/v1/connections/{w.connection_id}"
    return [Call(path), Call(path, {"params": {"purge": "true"}})]


# A public address: registering it needs no network (the guard checks the literal).
_HOOK = "https://93.184.216.34/hooks"
_PASSWORDS = {"current_password": PASSWORD, "new_password": "another long passphrase"}
ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", "/health"): Spec("public", _one("/health")),
    ("GET", "/ready"): Spec("public", _one("/ready")),
    ("POST", "/api/v1/users"): Spec("public", _one("/api/v1/users")),
    ("POST", "/api/v1/sessions"): Spec("public", _one("/api/v1/sessions")),
    ("POST", "/api/v1/tokens"): Spec("public", _one("/api/v1/tokens")),
    ("POST", "/api/v1/sessions/mfa"): Spec("public", _one("/api/v1/sessions/mfa")),
    ("GET", "/api/v1/users/me"): Spec("user", _one(ME_URL)),
    ("PATCH", "/api/v1/users/me/password"): Spec(
        "user", _one(f"{ME_URL}/password", json=_PASSWORDS)
    ),
    ("DELETE", "/api/v1/users/me"): Spec("user", _one(ME_URL, json={"password": PASSWORD})),
    ("GET", "/api/v1/users/me/net-worth"): Spec(
        "user", _one(f"{ME_URL}/net-worth"), scope=TokenScope.READ
    ),
    ("GET", "/api/v1/sessions"): Spec("user", _one("/api/v1/sessions")),
    ("DELETE", "/api/v1/sessions/others"): Spec("user", _one("/api/v1/sessions/others")),
    ("GET", "/api/v1/users/me/mfa"): Spec("user", _one(f"{ME_URL}/mfa")),
    ("POST", "/api/v1/users/me/mfa/totp"): Spec("user", _one(f"{ME_URL}/mfa/totp")),
    ("POST", "/api/v1/users/me/mfa/totp/confirm"): Spec(
        "user", _one(f"{ME_URL}/mfa/totp/confirm", json={"code": "123456"})
    ),
    ("POST", "/api/v1/users/me/mfa/recovery-codes"): Spec(
        "user", _one(f"{ME_URL}/mfa/recovery-codes", json={"code": "123456"})
    ),
    ("POST", "/api/v1/users/me/mfa/totp/disable"): Spec(
        "user", _one(f"{ME_URL}/mfa/totp/disable", json={"password": PASSWORD, "code": "123456"})
    ),
    ("DELETE", "/api/v1/sessions/current"): Spec("user", _one("/api/v1/sessions/current")),
    ("DELETE", "/api/v1/sessions/{session_id}"): Spec(
        "user", _one("/api/v1/sessions/{session_id}"), frozenset({"session_id"})
    ),
    ("POST", "/api/v1/tokens/personal"): Spec(
        "user", _one("/api/v1/tokens/personal", json={"name": "x", "scopes": ["read"]})
    ),
    ("GET", "/api/v1/tokens/personal"): Spec("user", _one("/api/v1/tokens/personal")),
    ("DELETE", "/api/v1/tokens/personal/{token_id}"): Spec(
        "user", _one("/api/v1/tokens/personal/{token_id}"), frozenset({"token_id"})
    ),
    ("GET", "/api/v1/admin/users"): Spec("admin", _one("/api/v1/admin/users")),
    ("PATCH", "/api/v1/admin/users/{user_id}"): Spec(
        "admin", _one("/api/v1/admin/users/{user_id}", json={"role": "admin"})
    ),
    ("DELETE", "/api/v1/admin/users/{user_id}/mfa"): Spec(
        "admin", _one("/api/v1/admin/users/{user_id}/mfa")
    ),
    ("DELETE", "/api/v1/admin/users/{user_id}"): Spec(
        "admin", _one("/api/v1/admin/users/{user_id}")
    ),
    ("POST", "/api/v1/connections"): Spec(
        "user", _one("/api/v1/connections", json={"provider": "manual"}), scope=TokenScope.WRITE
    ),
    ("GET", "/api/v1/connections"): Spec(
        "user", _one("/api/v1/connections"), scope=TokenScope.READ
    ),
    ("DELETE", "/api/v1/connections/{connection_id}"): Spec(
        "user", _disconnect, frozenset({"connection_id"}), scope=TokenScope.WRITE
    ),
    ("POST", "/api/v1/connections/{connection_id}/imports"): Spec(
        "user", _upload, frozenset({"connection_id"}), scope=TokenScope.IMPORT
    ),
    ("POST", "/api/v1/connections/{connection_id}/sync"): Spec(
        "user",
        _one("/api/v1/connections/{connection_id}/sync"),
        frozenset({"connection_id"}),
        scope=TokenScope.WRITE,
    ),
    ("POST", "/api/v1/webhooks"): Spec(
        "user",
        _one("/api/v1/webhooks", json={"url": _HOOK, "events": ["sync.failed"]}),
        scope=TokenScope.WRITE,
    ),
    ("GET", "/api/v1/webhooks"): Spec("user", _one("/api/v1/webhooks"), scope=TokenScope.READ),
    ("GET", "/api/v1/webhooks/{endpoint_id}"): Spec(
        "user",
        _one("/api/v1/webhooks/{endpoint_id}"),
        frozenset({"endpoint_id"}),
        scope=TokenScope.READ,
    ),
    ("PATCH", "/api/v1/webhooks/{endpoint_id}"): Spec(
        "user",
        _one("/api/v1/webhooks/{endpoint_id}", json={"description": "x"}),
        frozenset({"endpoint_id"}),
        scope=TokenScope.WRITE,
    ),
    ("DELETE", "/api/v1/webhooks/{endpoint_id}"): Spec(
        "user",
        _one("/api/v1/webhooks/{endpoint_id}"),
        frozenset({"endpoint_id"}),
        scope=TokenScope.WRITE,
    ),
    ("POST", "/api/v1/webhooks/{endpoint_id}/secret"): Spec(
        "user",
        _one("/api/v1/webhooks/{endpoint_id}/secret"),
        frozenset({"endpoint_id"}),
        scope=TokenScope.WRITE,
    ),
    ("POST", "/api/v1/webhooks/{endpoint_id}/test"): Spec(
        "user",
        _one("/api/v1/webhooks/{endpoint_id}/test"),
        frozenset({"endpoint_id"}),
        scope=TokenScope.WRITE,
    ),
    ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries"): Spec(
        "user",
        _one("/api/v1/webhooks/{endpoint_id}/deliveries"),
        frozenset({"endpoint_id"}),
        scope=TokenScope.READ,
    ),
    ("GET", "/api/v1/accounts"): Spec("user", _one("/api/v1/accounts"), scope=TokenScope.READ),
    ("GET", "/api/v1/accounts/{account_id}"): Spec(
        "user",
        _one("/api/v1/accounts/{account_id}"),
        frozenset({"account_id"}),
        scope=TokenScope.READ,
    ),
    ("GET", "/api/v1/accounts/{account_id}/balance-history"): Spec(
        "user",
        _one("/api/v1/accounts/{account_id}/balance-history"),
        frozenset({"account_id"}),
        scope=TokenScope.READ,
    ),
    ("DELETE", "/api/v1/accounts/{account_id}"): Spec(
        "user",
        _one("/api/v1/accounts/{account_id}"),
        frozenset({"account_id"}),
        scope=TokenScope.WRITE,
    ),
    ("GET", "/api/v1/transactions"): Spec(
        "user", _filtered("/api/v1/transactions"), frozenset({"account"}), scope=TokenScope.READ
    ),
    ("GET", "/api/v1/transactions.csv"): Spec(
        "user", _filtered("/api/v1/transactions.csv"), frozenset({"account"}), scope=TokenScope.READ
    ),
    ("GET", "/api/v1/transactions/sync"): Spec(
        "user", _one("/api/v1/transactions/sync"), scope=TokenScope.READ
    ),
    ("PUT", "/api/v1/transactions/{transaction_id}/transfer"): Spec(
        "user",
        _one("/api/v1/transactions/{transaction_id}/transfer", json={"other_id": str(new_id())}),
        frozenset({"transaction_id"}),
        scope=TokenScope.WRITE,
    ),
    ("DELETE", "/api/v1/transactions/{transaction_id}/transfer"): Spec(
        "user",
        _one("/api/v1/transactions/{transaction_id}/transfer"),
        frozenset({"transaction_id"}),
        scope=TokenScope.WRITE,
    ),
    ("GET", "/api/v1/accounts/{account_id}/holdings"): Spec(
        "user",
        _one("/api/v1/accounts/{account_id}/holdings"),
        frozenset({"account_id"}),
        scope=TokenScope.READ,
    ),
    ("GET", "/api/v1/accounts/{account_id}/investment-transactions"): Spec(
        "user",
        _one("/api/v1/accounts/{account_id}/investment-transactions"),
        frozenset({"account_id"}),
        scope=TokenScope.READ,
    ),
    ("GET", "/api/v1/accounts/{account_id}/value-history"): Spec(
        "user",
        _one("/api/v1/accounts/{account_id}/value-history"),
        frozenset({"account_id"}),
        scope=TokenScope.READ,
    ),
    ("GET", "/api/v1/holdings"): Spec("user", _one("/api/v1/holdings"), scope=TokenScope.READ),
    ("GET", "/api/v1/securities/{security_id}"): Spec(
        "user",
        _one(f"/api/v1/securities/{new_id()}"),
        shared_ids=frozenset({"security_id"}),
        scope=TokenScope.READ,
    ),
}
# Served by FastAPI itself (the OpenAPI document and its viewers): public by design.
DOCUMENTATION_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(method, path, route) for every operation the app serves, included routers flattened."""
    # FastAPI >= 0.160 keeps included routers lazily; older ones list APIRoutes directly.
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    contexts: Any = iterate(app.routes) if iterate else app.routes
    for context in contexts:
        route = getattr(context, "original_route", context)
        if not isinstance(route, APIRoute):
            assert context.path in DOCUMENTATION_PATHS, f"a non-API route: {context.path}"
            continue
        for method in sorted(context.methods or ()):
            yield method, context.path, route


def dependency_calls(route: APIRoute) -> set[Any]:
    """Every callable the route depends on, at any depth."""
    found: set[Any] = set()
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        found.add(dependant.call)
        pending.extend(dependant.dependencies)
    return found


def routes_with(app: FastAPI, *accesses: Access) -> list[tuple[str, str, Spec]]:
    return [
        (method, path, ROUTES[method, path])
        for method, path, _ in api_routes(app)
        if ROUTES[method, path].access in accesses
    ]


def test_every_route_is_known_to_the_access_suite(app: FastAPI) -> None:
    served = {(method, path) for method, path, _ in api_routes(app)}

    assert served - ROUTES.keys() == set(), "new routes: describe them in ROUTES"
    assert ROUTES.keys() - served == set(), "routes that are gone: remove them from ROUTES"


def test_each_route_requires_what_the_suite_says(app: FastAPI) -> None:
    for method, path, route in api_routes(app):
        spec = ROUTES[method, path]
        demands = [
            BEARER_DEPENDENCIES[c] for c in dependency_calls(route) if c in BEARER_DEPENDENCIES
        ]
        signed_in = spec.access != "public"
        assert bool(demands) == signed_in, (method, path)
        # Personal tokens are refused unless the route names the scope that lets one in.
        refuses_tokens = any(not demand.personal_tokens for demand in demands)
        assert refuses_tokens == (signed_in and spec.scope is None), (method, path)
        gates = {demand.scope for demand in demands if demand.scope is not None}
        assert gates == ({spec.scope} if spec.scope else set()), (method, path)
        assert spec.scope is None or spec.access == "user", (method, path)
        assert any(demand.admin for demand in demands) == (spec.access == "admin"), (method, path)
        # Every path parameter is either an owned id or reachable by administrators only.
        for name in re.findall(r"{(\w+)}", path):
            assert name in spec.owned_ids | spec.shared_ids or spec.access == "admin", (
                method,
                path,
                name,
            )


@pytest.fixture
async def world(client: httpx.AsyncClient, container: FastContainer) -> World:
    ada = await sign_up(client, "ada@example.com")
    connection_id = await connect(client, ada, "ofx-file")
    await imported(client, ada, connection_id, "checking_ofx1_sgml.ofx")
    [account] = await accounts_of(client, ada)
    transaction = (await client.get("/api/v1/transactions", headers=ada)).json()["items"][0]
    me = (await client.get(ME_URL, headers=ada)).json()
    [session] = (await client.get("/api/v1/sessions", headers=ada)).json()["items"]
    await create_user(container, "root@example.com", role=Role.ADMIN)
    root = bearer((await tokens_for(client, "root@example.com"))["access_token"])
    hook = await client.post(
        "/api/v1/webhooks", json={"url": _HOOK, "events": ["sync.failed"]}, headers=ada
    )
    assert hook.status_code == 201, hook.text
    personal = await client.post(
        PERSONAL_TOKENS_URL, json={"name": "script", "scopes": ["read"]}, headers=ada
    )
    assert personal.status_code == 201, personal.text
    return World(
        ada=ada,
        eve=await sign_up(client, "eve@example.com"),
        root=root,
        ada_user_id=me["id"],
        ada_session_id=session["id"],
        connection_id=connection_id,
        account_id=account["id"],
        transaction_id=transaction["id"],
        webhook_id=hook.json()["id"],
        personal_token_id=personal.json()["id"],
        secret=container.settings.secret_key.get_secret_value(),
        ada_access_token=ada["authorization"].removeprefix("Bearer "),
        secrets_of_ada=("ada@example.com", account["id"], account["name"], "my ofx-file"),
    )


async def send(
    client: httpx.AsyncClient, method: str, call: Call, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, call.path, headers=headers, **call.options)


# --- tokens ----------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(w: World) -> dict[str, Any]:
    now = int(utcnow().timestamp())
    return {
        "iss": "dashtam",
        "sub": w.ada_user_id,
        "sid": w.ada_session_id,
        "jti": str(new_id()),
        "iat": now,
        "exp": now + 900,
        "typ": "access",
    }


def _issued(secret: str, w: World, ttl: timedelta = timedelta(minutes=15)) -> str:
    service = JwtTokenService(secret_key=secret, access_token_ttl=ttl)
    return service.issue_access_token(
        user_id=UUID(w.ada_user_id), session_id=UUID(w.ada_session_id), now=utcnow()
    )


def _tampered_payload(w: World) -> str:
    head, _, signature = w.ada_access_token.split(".")
    return f"{head}.{_b64(_claims(w) | {'sub': str(new_id())})}.{signature}"


FOREIGN_SECRET = "a-foreign-secret-that-is-long-enough-0123456789"
BAD_TOKENS: dict[str, tuple[Callable[[World], str], str]] = {
    "foreign": (lambda w: _issued(FOREIGN_SECRET, w), "invalid_token"),
    "expired": (lambda w: _issued(w.secret, w, timedelta(seconds=-60)), "token_expired"),
    "tampered-payload": (_tampered_payload, "invalid_token"),
    "alg-none": (
        lambda w: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(w))}.",
        "invalid_token",
    ),
}


async def _assert_refused_everywhere(
    app: FastAPI, client: httpx.AsyncClient, w: World, headers: dict[str, str], code: str
) -> None:
    for method, _path, spec in routes_with(app, "user", "admin"):
        for call in spec.calls(w):
            response = await send(client, method, call, headers)
            assert response.status_code == 401, (code, method, call.path, response.text)
            assert_unauthorized(response, code=code)


async def _assert_ada_untouched(
    client: httpx.AsyncClient, container: FastContainer, w: World
) -> None:
    assert await finance_row_counts(container) == (1, 4, 1)
    assert (await client.get(ME_URL, headers=w.ada)).status_code == 200
    account = await client.get(f"/api/v1/accounts/{w.account_id}", headers=w.ada)
    assert account.status_code == 200, account.text


async def test_every_authenticated_route_refuses_a_missing_or_bad_token(
    app: FastAPI, client: httpx.AsyncClient, container: FastContainer, world: World
) -> None:
    await _assert_refused_everywhere(app, client, world, {}, "missing_token")
    for make, code in BAD_TOKENS.values():
        await _assert_refused_everywhere(app, client, world, bearer(make(world)), code)

    await _assert_ada_untouched(client, container, world)


async def test_every_authenticated_route_refuses_a_revoked_sessions_token(
    app: FastAPI, client: httpx.AsyncClient, container: FastContainer, world: World
) -> None:
    second = bearer((await tokens_for(client, "ada@example.com"))["access_token"])
    assert (await client.delete("/api/v1/sessions/current", headers=second)).status_code == 204

    await _assert_refused_everywhere(app, client, world, second, "token_revoked")

    await _assert_ada_untouched(client, container, world)


# --- other users' ids and admin routes -------------------------------------------------------


async def test_every_route_with_an_owned_id_refuses_another_users_id(
    app: FastAPI, client: httpx.AsyncClient, container: FastContainer, world: World
) -> None:
    probed = 0
    for method, path, spec in routes_with(app, "user"):
        for call in spec.calls(world):
            named = set(re.findall(r"{(\w+)}", path)) | set(call.options.get("params", {}))
            if not named & spec.owned_ids:
                continue
            response = await send(client, method, call, world.eve)
            body = assert_problem(response, status=404, code="not_found")
            # ``instance`` echoes the request's own path; nothing else may name Ada's data.
            shown = json.dumps({k: v for k, v in body.items() if k != "instance"})
            leaked = [s for s in world.secrets_of_ada if s in shown]
            assert leaked == [], (method, call.path, leaked)
            probed += 1

    # Sessions, personal tokens, connections (disconnect, purge, import, sync), accounts (3),
    # transactions (2), transfers (link, unlink), investments (holdings, trades, value
    # history), webhooks (6).
    assert probed == 22
    await _assert_ada_untouched(client, container, world)
    hook = await client.get(f"/api/v1/webhooks/{world.webhook_id}", headers=world.ada)
    assert hook.status_code == 200
    assert hook.json()["description"] is None
    [connection] = (await client.get("/api/v1/connections", headers=world.ada)).json()["items"]
    assert connection["status"] == "active"
    sessions = (await client.get("/api/v1/sessions", headers=world.ada)).json()["items"]
    assert [s["id"] for s in sessions] == [world.ada_session_id]


async def test_every_admin_route_refuses_a_user(
    app: FastAPI, client: httpx.AsyncClient, container: FastContainer, world: World
) -> None:
    admin_routes = routes_with(app, "admin")
    assert admin_routes, "no admin route found: the enumeration is broken"
    for method, _path, spec in admin_routes:
        for call in spec.calls(world):
            response = await send(client, method, call, world.eve)
            assert_problem(response, status=403, code="forbidden")
            assert "ada@example.com" not in response.text
            # The same call is allowed to an administrator: the refusal was about the role.
            if method == "GET":
                allowed = await send(client, method, call, world.root)
                assert allowed.status_code == 200, allowed.text

    me = (await client.get(ME_URL, headers=world.ada)).json()
    assert (me["role"], me["is_active"]) == ("user", True)


# --- personal access tokens ------------------------------------------------------------------


async def personal_token(
    client: httpx.AsyncClient, headers: dict[str, str], *scopes: TokenScope
) -> dict[str, str]:
    """Bearer headers of a new personal token of the signed-in user with ``scopes``."""
    response = await client.post(
        PERSONAL_TOKENS_URL,
        json={"name": "access suite", "scopes": [s.value for s in scopes]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return bearer(response.json()["token"])


async def test_routes_that_do_not_accept_personal_tokens_refuse_even_an_all_scopes_one(
    app: FastAPI, client: httpx.AsyncClient, container: FastContainer, world: World
) -> None:
    everything = await personal_token(client, world.ada, *TokenScope)
    refused = 0
    for method, path, spec in routes_with(app, "user", "admin"):
        if spec.scope is not None:
            continue
        for call in spec.calls(world):
            response = await send(client, method, call, everything)
            assert_problem(response, status=403, code="personal_token_not_allowed")
            challenge = response.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in challenge, (method, path)
            refused += 1

    # Identity (me, password, close, 4 session routes, 3 personal token routes, 5 second-factor
    # routes) and admin (4).
    assert refused == 19
    await _assert_ada_untouched(client, container, world)
    tokens = (await client.get(PERSONAL_TOKENS_URL, headers=world.ada)).json()["items"]
    assert len(tokens) == 2  # the refused POST made none
    assert [t["revoked_at"] for t in tokens] == [None, None]


async def test_a_personal_token_without_the_routes_scope_is_refused_with_the_scope_named(
    app: FastAPI, client: httpx.AsyncClient, container: FastContainer, world: World
) -> None:
    for scope in TokenScope:
        others = await personal_token(client, world.ada, *(s for s in TokenScope if s != scope))
        for method, path, spec in routes_with(app, "user"):
            if spec.scope is not scope:
                continue
            for call in spec.calls(world):
                response = await send(client, method, call, others)
                assert_problem(response, status=403, code="insufficient_scope")
                challenge = response.headers["www-authenticate"]
                assert challenge == (
                    'Bearer realm="dashtam", error="insufficient_scope", '
                    f'error_description="insufficient_scope", scope="{scope.value}"'
                ), (method, path)

    await _assert_ada_untouched(client, container, world)


async def test_a_personal_token_with_the_routes_scope_gets_in(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    tokens = {scope: await personal_token(client, world.ada, scope) for scope in TokenScope}
    # Reads first: the writes below delete what they would read.
    accepting = [(m, spec) for m, _path, spec in routes_with(app, "user") if spec.scope]
    accepted = 0
    for method, spec in sorted(accepting, key=lambda pair: pair[1].scope is not TokenScope.READ):
        assert spec.scope is not None
        for call in spec.calls(world):
            response = await send(client, method, call, tokens[spec.scope])
            assert response.status_code not in (401, 403), (method, call.path, response.text)
            accepted += 1
    assert accepted == 31  # 28 routes; two transaction filters, disconnect and purge
