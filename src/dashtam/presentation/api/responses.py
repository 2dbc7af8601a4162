"""A route's ``Result`` becomes its response here, and only here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from fastapi import Request, Response, status
from fastapi.responses import JSONResponse
from pydantic_core import to_json

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result, Success
from dashtam.presentation.api.problems import error_response

T = TypeVar("T")
R = TypeVar("R")


def respond(result: Result[T, Error], request: Request, to: Callable[[T], R]) -> R | JSONResponse:
    """``to(value)`` on success, the RFC 9457 problem of the error on failure.

    A model returned by ``to`` is serialised by FastAPI against the route's ``response_model``
    and sent with the route's ``status_code``, so a 201 is declared once, on the decorator.
    """
    match result:
        case Success(value):
            return to(value)
        case Failure(error):
            return error_response(error, request)


def no_content(_: object) -> Response:
    """The success of a route that answers 204 (its value is not sent)."""
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def with_headers(
    response: Response, headers: Mapping[str, str], to: Callable[[T], R]
) -> Callable[[T], R]:
    """``to``, with ``headers`` on the success response only (a problem never carries them).

    ``response`` is the route's FastAPI sub-response, whose headers FastAPI merges into the
    response it builds from the returned model.
    """

    def mapped(value: T) -> R:
        response.headers.update(headers)
        return to(value)

    return mapped


def json_shaped(body: object) -> Response:
    """``body`` sent as the JSON that FastAPI sends for the route's ``response_model``.

    For the hottest reads: ``body`` holds the model's fields as plain values (``str``, ``UUID``,
    ``date``, ``datetime``, ``None``; dicts with the keys in the model's field order, lists),
    what the model would hold after validation, and pydantic-core serialises them with the
    serialisers it uses for the model. asyncpg's ``UUID`` subclass comes as its text: it sends
    pydantic-core down its slow path (2 us each, against 0.1 us for its ``str``). The bytes are
    the same (tests compare them), without building and validating a model per item. The route
    keeps ``response_model`` for its OpenAPI schema.
    """
    return Response(to_json(body), media_type="application/json")
