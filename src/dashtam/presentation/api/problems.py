"""RFC 9457 problem details: every error leaves the API as ``application/problem+json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from dashtam.bootstrap import (
    DB_ERRORS,
    DatabaseUnavailableError,
    StorageFullError,
    classify,
    get_logger,
)
from dashtam.core.errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    Error,
    InfrastructureError,
    InsufficientScopeError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
    ValidationError,
)
from dashtam.core.tracing import get_trace_id

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://dashtam.dev/problems/"

_logger = get_logger("dashtam.api")


class ProblemError(Exception):
    """Raised (by dependencies) to end a request with the problem response of ``error``."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.code)
        self.error = error


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "trace_id": get_trace_id(),
    }
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: Error) -> int:
    """HTTP status of a domain or infrastructure error (most specific class first)."""
    if isinstance(error, ValidationError):
        return 422
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, AuthenticationError):
        return 401
    if isinstance(error, AuthorizationError):
        return 403
    if isinstance(error, RateLimitedError):
        return 429
    if isinstance(error, UpstreamError):
        return 502
    if isinstance(error, StorageFullError):
        return 507
    if isinstance(error, DatabaseUnavailableError):
        return 503
    if isinstance(error, InfrastructureError):
        return 500
    return 400


def _bearer_challenge(error: AuthenticationError) -> str:
    """RFC 6750 challenge; token problems name ``invalid_token`` so clients know to refresh."""
    if error.code in ("invalid_token", "token_expired", "token_revoked"):
        return f'Bearer realm="dashtam", error="invalid_token", error_description="{error.code}"'
    return 'Bearer realm="dashtam"'


def _scope_challenge(error: InsufficientScopeError) -> str:
    """RFC 6750 3.1: the token is good but not for this; ``scope`` says which one would do."""
    wanted = f', scope="{error.scope}"' if error.scope else ""
    return (
        f'Bearer realm="dashtam", error="insufficient_scope", '
        f'error_description="{error.code}"{wanted}'
    )


def error_response(error: Error, request: Request) -> JSONResponse:
    """The problem response for a ``Failure``; infrastructure details never leave the process."""
    status = status_for(error)
    headers: dict[str, str] = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = _bearer_challenge(error)
    if isinstance(error, InsufficientScopeError):
        headers["WWW-Authenticate"] = _scope_challenge(error)
    if isinstance(error, DatabaseUnavailableError):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if status >= 500 and not isinstance(error, UpstreamError):
        detail = (
            "the service is temporarily unavailable"
            if isinstance(error, DatabaseUnavailableError)
            else "an unexpected error occurred"
        )
        return problem_response(
            status=status,
            code=error.code,
            detail=detail,
            instance=request.url.path,
            headers=headers or None,
        )
    errors = error_items(error, request, status=status)
    return problem_response(
        status=status,
        code=error.code,
        detail=error.message,
        instance=request.url.path,
        headers=headers or None,
        extra={"errors": errors} if errors else None,
    )


def error_items(error: Error, request: Request, *, status: int) -> list[dict[str, Any]]:
    """The ``errors`` of a problem: for a 422, where (a ``location`` string) and what.

    A 422 whose error names no place has no entries: every entry of a 422 says where.
    """
    if not error.details:
        return []
    details = dict(error.details)
    if status != 422:
        return [details]
    if isinstance(details.get("location"), str):
        # A place in an uploaded file ("line 12", 'line 12 column "Amount"', "STMTTRN #3").
        location: str = details.pop("location")
        message = error.message.removeprefix(f"{location}: ")
        pointer = None
    elif isinstance(details.get("field"), str):
        field: str = details["field"]
        # A handler names its input by name only; one given in the query string is there.
        in_query = field in request.query_params
        location = f"query.{field}" if in_query else f"body.{field}"
        message, pointer = error.message, None if in_query else json_pointer([field])
    else:
        return []
    item: dict[str, Any] = {"location": location, "message": message, "type": error.code}
    if pointer is not None:
        item["pointer"] = pointer
    return [{**details, **item}]


def validation_item(error: Mapping[str, Any]) -> dict[str, str]:
    """One FastAPI/pydantic error: ``loc`` joined (``body.items.0.amount``), plain words."""
    loc = [str(part) for part in error.get("loc", ())]
    kind = str(error.get("type", "invalid"))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "json_invalid":
        # pydantic's loc holds a character offset here, not a member of the body.
        reason = str((error.get("ctx") or {}).get("error", "")).strip()
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason_text = f" ({reason}{where})" if reason else where
        return {
            "location": "body",
            "message": f"the body is not valid JSON{reason_text}",
            "type": kind,
        }
    item = {"location": ".".join(loc), "message": message, "type": kind}
    if loc[:1] == ["body"]:
        item["pointer"] = json_pointer(loc[1:])
    return item


def json_pointer(parts: Sequence[str]) -> str:
    """RFC 6901: ``["items", "0", "a/b"]`` is ``/items/0/a~1b``; no parts, the whole body."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def database_fault(exc: BaseException) -> DatabaseUnavailableError | None:
    """The typed fault of a database exception that escaped a handler, if it is one.

    Handlers return Results, but a fault can surface where none is expected (a rollback, a
    dependency): an unavailable database is still a 503 with Retry-After, never a 500.
    """
    if not isinstance(exc, DB_ERRORS):
        return None
    error = classify(exc)
    return error if isinstance(error, DatabaseUnavailableError) else None


def database_fault_response(error: DatabaseUnavailableError, path: str | None) -> JSONResponse:
    return problem_response(
        status=status_for(error),
        code=error.code,
        detail="the service is temporarily unavailable",
        instance=path,
        headers={"Retry-After": str(error.retry_after_seconds)},
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return error_response(exc.error, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [validation_item(err) for err in exc.errors()]
        return problem_response(
            status=422,
            code="validation_error",
            detail="the request is not valid",
            instance=request.url.path,
            extra={"errors": errors},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        )
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; a path served by
            # several routes (GET and POST apart) allows all of their methods (RFC 9110 15.5.6).
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return problem_response(
            status=exc.status_code,
            code=code,
            detail=detail,
            instance=request.url.path,
            headers=headers or None,
        )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> set[str]:
    """Every method some route would fully match on this path (asked of the router itself)."""
    allowed: set[str] = set()
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.add(method)
    return allowed
