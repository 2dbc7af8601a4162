"""The repositories' one error boundary: driver exceptions become typed ``Failure``s here.

A repository method is written for the happy path and decorated with ``@classified``; whatever
the database raises while it runs (``DB_ERRORS``) leaves it as ``Failure(classify(exc))``, so
no SQLAlchemy or driver exception crosses out of infrastructure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, overload

from sqlalchemy.orm.exc import StaleDataError

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result
from dashtam.infrastructure.errors import DB_ERRORS, classify

P = ParamSpec("P")
T = TypeVar("T")

Method = Callable[P, Coroutine[Any, Any, Result[T, Error]]]


@overload
def classified(method: Method[P, T], /) -> Method[P, T]: ...


@overload
def classified(
    *, unique_violation: Error | None = None, stale_version: Error | None = None
) -> Callable[[Method[P, T]], Method[P, T]]: ...


def classified(
    method: Method[P, T] | None = None,
    /,
    *,
    unique_violation: Error | None = None,
    stale_version: Error | None = None,
) -> Method[P, T] | Callable[[Method[P, T]], Method[P, T]]:
    """Classify what the database raises; ``unique_violation``/``stale_version`` name the
    repository's own conflicts (e.g. ``email_taken``) instead of the generic ones."""

    def decorate(inner: Method[P, T]) -> Method[P, T]:
        @functools.wraps(inner)
        async def guarded(*args: P.args, **kwargs: P.kwargs) -> Result[T, Error]:
            try:
                return await inner(*args, **kwargs)
            except DB_ERRORS as exc:
                # The ORM's ``WHERE version = :loaded`` matched no row: someone else won.
                if stale_version is not None and isinstance(exc, StaleDataError):
                    return Failure(stale_version)
                return Failure(classify(exc, unique_violation=unique_violation))

        return guarded

    return decorate(method) if method is not None else decorate
