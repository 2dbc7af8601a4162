"""The one place a route's Result becomes its response."""

from __future__ import annotations

import json

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from dashtam.core.errors import AuthenticationError, Error, NotFoundError, RateLimitedError
from dashtam.core.result import Failure, Result, Success
from dashtam.presentation.api.responses import no_content, respond, with_headers
from tests.api.support import PROBLEM_JSON

NO_STORE = {"Cache-Control": "no-store"}


def request(path: str = "/api/v1/things/1") -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": []})


def problem(response: object) -> tuple[int, dict[str, object], JSONResponse]:
    assert isinstance(response, JSONResponse)
    assert response.media_type == PROBLEM_JSON
    return response.status_code, json.loads(bytes(response.body)), response


def test_success_is_what_the_mapper_makes() -> None:
    ok: Result[int, Error] = Success(41)
    assert respond(ok, request(), lambda n: {"n": n + 1}) == {"n": 42}


def test_failure_is_the_problem_of_its_error() -> None:
    failed: Result[int, Error] = Failure(NotFoundError("no such thing"))
    status, body, _ = problem(respond(failed, request(), str))
    assert status == 404
    assert (body["code"], body["detail"], body["instance"]) == (
        "not_found",
        "no such thing",
        "/api/v1/things/1",
    )


def test_failure_keeps_the_headers_its_error_implies() -> None:
    throttled: Result[int, Error] = Failure(RateLimitedError("slow down", retry_after_seconds=7))
    _, _, response = problem(respond(throttled, request(), str))
    assert response.headers["Retry-After"] == "7"
    refused: Result[int, Error] = Failure(AuthenticationError("who are you"))
    _, _, response = problem(respond(refused, request(), str))
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_no_content_sends_no_body() -> None:
    ok: Result[None, Error] = Success(None)
    response = respond(ok, request(), no_content)
    assert (response.status_code, response.body) == (204, b"")


def test_success_headers_go_on_the_success_response_only() -> None:
    sub_response = Response()
    ok: Result[str, Error] = Success("token")
    assert respond(ok, request(), with_headers(sub_response, NO_STORE, str.upper)) == "TOKEN"
    assert sub_response.headers["Cache-Control"] == "no-store"

    untouched = Response()
    failed: Result[str, Error] = Failure(AuthenticationError("bad password"))
    _, _, response = problem(respond(failed, request(), with_headers(untouched, NO_STORE, str)))
    assert "cache-control" not in untouched.headers
    assert "cache-control" not in response.headers
