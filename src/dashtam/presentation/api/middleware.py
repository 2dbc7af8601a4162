"""Per-request context: trace id in, trace id out, one access-log line."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashtam.bootstrap import get_logger
from dashtam.core.tracing import bound_trace_id
from dashtam.presentation.api.problems import (
    database_fault,
    database_fault_response,
    problem_response,
)

TRACE_HEADER = "x-request-id"
# A client-chosen id ends up in logs and the audit trail: accept only a safe, short token.
_SAFE_TRACE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_logger = get_logger("dashtam.api.access")
# The stdlib logger behind it: the level structlog's filter_by_level asks about.
_ACCESS = logging.getLogger("dashtam.api.access")


class TraceIdMiddleware:
    """Binds the request's trace id (``X-Request-ID`` or a new UUIDv7) and echoes it back.

    Pure ASGI (not ``BaseHTTPMiddleware``) so the contextvar is visible to the endpoint and
    to the exception handlers, including the one that renders a 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, TRACE_HEADER)
        trace_id = incoming if incoming and _SAFE_TRACE_ID.match(incoming) else None
        with bound_trace_id(trace_id) as bound:
            status_holder: dict[str, int] = {}
            started = time.perf_counter()

            async def send_with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status_holder["status"] = message["status"]
                    headers = list(message.get("headers", []))
                    headers.append((b"x-request-id", bound.encode()))
                    message["headers"] = headers
                await send(message)

            try:
                await self.app(scope, receive, send_with_trace)
            except Exception as exc:
                # Rendered here, inside the trace context: Starlette's outermost error
                # middleware would run after the trace id is gone.
                fault = database_fault(exc)
                if fault is None:
                    _logger.exception("unhandled_exception", path=scope.get("path"))
                else:
                    _logger.warning(
                        "unhandled_database_fault",
                        path=scope.get("path"),
                        code=fault.code,
                        error_type=type(exc).__name__,
                    )
                if "status" in status_holder:
                    raise  # the response already started; nothing honest left to send
                response = (
                    database_fault_response(fault, scope.get("path"))
                    if fault is not None
                    else problem_response(
                        status=500,
                        code="internal_error",
                        detail="an unexpected error occurred; quote the trace_id when reporting it",
                        instance=scope.get("path"),
                    )
                )
                await response(scope, receive, send_with_trace)
            finally:
                if _ACCESS.isEnabledFor(logging.INFO):  # a filtered structlog call costs ~15 us
                    _logger.info(
                        "http_request",
                        method=scope.get("method"),
                        path=scope.get("path"),
                        status=status_holder.get("status", 500),
                        duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    )


_READ_METHODS = frozenset({"GET", "HEAD"})


class SharedReadsMiddleware:
    """A GET's read units of work (authentication, then the read) share one database session.

    GET only: a write would hold its authentication's read connection through the whole use
    case (a password hash included) for nothing.
    """

    def __init__(
        self, app: ASGIApp, *, scope_of: Callable[[], AbstractAsyncContextManager[None]]
    ) -> None:
        self.app = app
        self._scope_of = scope_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _READ_METHODS:
            await self.app(scope, receive, send)
            return
        async with self._scope_of():
            await self.app(scope, receive, send)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


_JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})
_FORM_DEFAULT = b"application/x-www-form-urlencoded"


class JsonByDefaultMiddleware:
    """Treat API bodies sent without a JSON content type as JSON.

    ``curl -d '{...}'`` labels its body ``application/x-www-form-urlencoded``; the API speaks
    only JSON (file uploads are multipart and left alone), so such bodies are read as JSON
    instead of being refused. A body that is not JSON still gets a 422 problem.
    """

    def __init__(self, app: ASGIApp, *, prefix: str = "/api/") -> None:
        self.app = app
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") in _JSON_METHODS
            and str(scope.get("path", "")).startswith(self._prefix)
        ):
            content_type = _header(scope, "content-type")
            if content_type is None or content_type.split(";")[0].strip().encode() == _FORM_DEFAULT:
                headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
                headers.append((b"content-type", b"application/json"))
                scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


class BodyTooLargeError(StarletteHTTPException):
    """A request body over its limit; an HTTPException so FastAPI's body parsing passes it on."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuse oversized bodies before they are read (declared length) or while they stream in.

    Without it a multipart upload is spooled whole to disk before any endpoint can look at it.
    """

    def __init__(self, app: ASGIApp, *, default_limit: int, upload_limit: int) -> None:
        self.app = app
        self._default_limit = default_limit
        self._upload_limit = upload_limit

    def _limit_for(self, path: str) -> int:
        if path.startswith("/api/v1/connections/") and path.rstrip("/").endswith("/imports"):
            return self._upload_limit
        return self._default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _JSON_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(str(scope.get("path", "")))
        declared = _header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem_response(
                status=413,
                code="payload_too_large",
                detail=f"the request body is larger than {limit} bytes",
                instance=str(scope.get("path")),
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, limited_receive, send)
