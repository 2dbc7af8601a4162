"""Trace id of the current request or command, carried in a contextvar."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from dashtam.core.ids import new_id

_trace_id: ContextVar[str | None] = ContextVar("dashtam_trace_id", default=None)


def get_trace_id() -> str | None:
    """The trace id bound to the current context, if any."""
    return _trace_id.get()


def new_trace_id() -> str:
    return str(new_id())


@contextmanager
def bound_trace_id(trace_id: str | None = None) -> Iterator[str]:
    """Bind ``trace_id`` (or a new one) for the duration of the block."""
    value = trace_id or new_trace_id()
    token = _trace_id.set(value)
    try:
        yield value
    finally:
        _trace_id.reset(token)
