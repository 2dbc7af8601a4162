"""The OpenAPI document states every error the API answers, as RFC 9457 problems.

Routes declare their error statuses with ``problems(...)``; ``install_openapi`` then rewrites
the generated document so that every 4xx/5xx answer (FastAPI's own 422 included) is
``application/problem+json`` with the ``Problem`` schema, which is what the API sends.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.routing import BaseRoute

from dashtam.presentation.api.problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
# FastAPI's default 422 body, which the API never sends (its 422s are problems).
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS: dict[int, str] = {
    400: "The body could not be decoded (not UTF-8, or broken multipart framing)",
    401: "No valid access token (or bad credentials); see WWW-Authenticate",
    403: (
        "Not allowed: not an administrator, or a personal access token without the scope "
        "this route needs (`insufficient_scope`) or on a route that refuses them "
        "(`personal_token_not_allowed`)"
    ),
    404: "No such resource, or not the caller's",
    409: "Conflicts with the current state, or a concurrent change: reload and retry",
    413: "The request body is over its size limit",
    422: "The request is not valid; `errors` says where",
    429: "Too many attempts (or requests to a provider); see Retry-After",
    502: "A provider's server failed; the message says whether Dashtam retries by itself",
    503: "The database is unavailable; retry later",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The RFC 6750 Bearer challenge",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    403: {
        "WWW-Authenticate": {
            "description": "For a personal access token: the RFC 6750 `insufficient_scope` "
            "challenge, naming the scope needed",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before the next attempt",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait before retrying, when known",
            "schema": {"type": "string"},
        }
    },
}

# Shorthands for the statuses most routes share.
# The token is checked against its session (or stored digest) in the database; a personal
# access token can be refused (403) by any route.
AUTHENTICATED = (401, 403, 503)
ADMIN = (401, 403, 503)


def _absent_or(description: str) -> Any:
    """A field that is a string or left out (never null): no ``default: null`` in the schema."""

    def drop_default(schema: dict[str, Any]) -> None:
        schema.pop("default", None)

    return Field(default=None, description=description, json_schema_extra=drop_default)


class ProblemErrorItem(BaseModel):
    """One entry of ``errors``: where (``location``) and what; other fields vary by error."""

    model_config = ConfigDict(extra="allow")

    # Not required: a 409's entries (e.g. ``{"retry": true}``) name no place; a 422's always do.
    location: str | SkipJsonSchema[None] = _absent_or(
        "Where, as one string: the request part and path (`query.limit`, `body.email`, "
        "`body.items.0.amount`), or the place in an uploaded file (`line 12`, "
        '`line 12 column "Amount"`, `STMTTRN #3 TRNAMT`)'
    )
    pointer: str | SkipJsonSchema[None] = _absent_or(
        "For a request-body error only: an RFC 6901 JSON Pointer into the body (`/items/0/amount`)"
    )
    message: str | SkipJsonSchema[None] = _absent_or("What is wrong, in plain words")
    type: str | SkipJsonSchema[None] = _absent_or(
        "A machine-readable kind: the pydantic error type, or the error's code"
    )


class Problem(BaseModel):
    """An RFC 9457 problem, as every error of this API is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem")
    title: str = Field(description="The HTTP status phrase")
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="A stable, machine-readable code, e.g. `not_found`")
    trace_id: str = Field(description="The request's trace id (also in X-Request-ID)")
    instance: str | None = Field(default=None, description="The request path")
    errors: list[ProblemErrorItem] | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer these error statuses."""
    return {status: {"description": DESCRIPTIONS[status]} for status in sorted(set(statuses))}


def _problem_response(status: int, description: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def as_problems(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every error response a problem (in place, and returned)."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for operation in _operations(document):
        responses: dict[str, Any] = operation.setdefault("responses", {})
        if "requestBody" in operation:  # FastAPI answers 400 for a body it cannot decode
            responses.setdefault("400", {})
        for key, response in list(responses.items()):
            if key.isdigit() and int(key) >= 400:
                description = DESCRIPTIONS.get(int(key), response.get("description", ""))
                responses[key] = _problem_response(int(key), description)
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components["Problem"] = schema
    return document


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    return [
        operation
        for item in document.get("paths", {}).values()
        for method, operation in item.items()
        if method in methods
    ]


class BearerSecurity:
    """Which operations need a bearer token: those whose dependencies include one of
    ``dependencies``. The scheme is stated here rather than solved as a dependency on every
    request (see ``dependencies.py``)."""

    def __init__(self, scheme: SecurityBase, dependencies: Collection[Callable[..., Any]]) -> None:
        self._scheme = scheme
        self._dependencies = frozenset(dependencies)

    def state(self, document: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
        """Add the scheme to ``document`` and a requirement of it to each such operation."""
        name = self._scheme.scheme_name
        needed = False
        for route in routes:
            if not isinstance(route, APIRoute) or not self._needed_by(route.dependant):
                continue
            item = document.get("paths", {}).get(route.path_format, {})
            for method in route.methods or ():
                if (operation := item.get(method.lower())) is not None:
                    operation["security"] = [{name: []}]
                    needed = True
        if needed:
            schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes[name] = jsonable_encoder(self._scheme.model, by_alias=True, exclude_none=True)

    def _needed_by(self, dependant: Dependant) -> bool:
        return any(
            sub.call in self._dependencies or self._needed_by(sub) for sub in dependant.dependencies
        )


def install_openapi(
    app: FastAPI, *, bearer: BearerSecurity, routes: Sequence[BaseRoute] | None = None
) -> None:
    """Serve the rewritten document at ``/openapi.json`` (built once, on first request), of
    ``routes`` in their order (default: the app's, in the order they are matched)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            documented = app.routes if routes is None else list(routes)
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=documented,
            )
            bearer.state(document, documented)
            app.openapi_schema = as_problems(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
