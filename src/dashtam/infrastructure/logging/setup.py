"""Structured logging with structlog: console in development, JSON in production.

Every record carries the trace id of the current request, read from the contextvar.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, WrappedLogger

from dashtam.core.tracing import get_trace_id
from dashtam.domain.protocols.logger import LoggerProtocol

# Values of these keys never reach a log line, whatever a caller passes.
_REDACTED_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "password_hash",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "secret_key",
        "authorization",
        "cookie",
        # Live providers: a setup token claims an access URL, which embeds credentials.
        "setup_token",
        "access_url",
        "claim_url",
        "credentials",
    }
)


def _add_trace_id(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    if "trace_id" not in event_dict or event_dict["trace_id"] is None:
        trace_id = get_trace_id()
        if trace_id is not None:
            event_dict["trace_id"] = trace_id
        else:
            event_dict.pop("trace_id", None)
    return event_dict


def _redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    for key in list(event_dict):
        if key.lower() in _REDACTED_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def configure_logging(
    *, level: str = "INFO", log_format: Literal["console", "json"] = "console"
) -> None:
    """Configure structlog; route stdlib logging (uvicorn, alembic) through it too."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_id,
        _redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # filter_by_level first: a debug call costs nothing when debug is off.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The API writes one structured line per request itself (with the trace id).
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False


def get_logger(name: str = "dashtam") -> LoggerProtocol:
    """A structured logger that satisfies the domain's ``LoggerProtocol``."""
    logger: LoggerProtocol = structlog.stdlib.get_logger(name)
    return logger
