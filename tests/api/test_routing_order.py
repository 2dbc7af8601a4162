"""Routers are matched hot reads first but documented in the API's reading order: the order
changes neither which route answers a request nor the OpenAPI document."""

from __future__ import annotations

import re
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match

from dashtam.presentation.api.app import DOCUMENTED, MATCHED
from tests.api.finance_support import sign_up


def _routes(routers: tuple[object, ...]) -> list[APIRoute]:
    return [route for router in routers for route in router.routes]  # type: ignore[attr-defined]


def _answering(routes: list[APIRoute], method: str, path: str) -> APIRoute | None:
    """The route Starlette picks: the first full match, else the first partial one (405)."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route
        if match == Match.PARTIAL and partial is None:
            partial = route
    return partial


def _requests() -> list[tuple[str, str]]:
    """Every method of every route, on a concrete path (ids for parameters), and each path
    with a method it does not take."""
    requests = []
    for route in _routes(DOCUMENTED):
        path = re.sub(r"\{[^}]+\}", str(uuid4()), route.path)
        requests += [(method, path) for method in route.methods]
        requests += [("PUT", path), ("PATCH", path)]
    return requests


def test_the_two_orders_hold_the_same_routers() -> None:
    assert sorted(map(id, MATCHED)) == sorted(map(id, DOCUMENTED))


@pytest.mark.parametrize(("method", "path"), _requests())
def test_every_request_meets_the_route_it_met_in_reading_order(method: str, path: str) -> None:
    assert _answering(_routes(MATCHED), method, path) is _answering(
        _routes(DOCUMENTED), method, path
    )


def test_sync_is_the_feed_not_a_transaction_id() -> None:
    route = _answering(_routes(MATCHED), "GET", "/api/v1/transactions/sync")
    assert route is not None
    assert route.path == "/api/v1/transactions/sync"


async def test_the_document_lists_paths_in_reading_order(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    paths = list((await client.get("/openapi.json")).json()["paths"])
    assert paths == list(dict.fromkeys(route.path for route in _routes(DOCUMENTED)))
    # The app itself matches in the other order, and still answers the hot read.
    headers = await sign_up(client, "order@example.com")
    response = await client.get("/api/v1/accounts", headers=headers)
    assert response.status_code == 200
