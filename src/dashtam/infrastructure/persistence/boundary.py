"""The repositories' one error boundary: driver exceptions become typed ``Failure``s here.

A repository method is written for the happy path and decorated with ``@classified``; whatever
the database raises while it runs (``DB_ERRORS``) leaves it as ``Failure(classify(exc))``, so
no SQLAlchemy or driver exception crosses out of infrastructure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dashtam.core.errors import Error
from dashtam.core.result import Failure, Result
from dashtam.infrastructure.errors import DB_ERRORS, DatabaseError, classify

P = ParamSpec("P")
T = TypeVar("T")

Method = Callable[P, Coroutine[Any, Any, Result[T, Error]]]

# A session's ``info`` names the transaction in which one of its statements failed.
# PostgreSQL aborts such a transaction by itself; SQLite undoes only the statement. Like the
# ORM after a failed flush, the repositories and the unit of work then refuse to go on until
# a rollback (which starts another transaction): a failed write spoils the whole use case.
_FAILED_IN = "dashtam_failed_transaction"


def _spoiled() -> Error:
    return DatabaseError("an earlier statement of this transaction failed; roll back first")


def transaction_failed(session: AsyncSession) -> bool:
    """Whether a statement of the session's current transaction failed."""
    failed_in = session.info.get(_FAILED_IN)
    return failed_in is not None and failed_in is session.sync_session.get_transaction()


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
            session = _session_of(args[0] if args else None)
            if session is not None and transaction_failed(session):
                return Failure(_spoiled())
            try:
                return await inner(*args, **kwargs)
            except DB_ERRORS as exc:
                if session is not None:
                    session.info[_FAILED_IN] = session.sync_session.get_transaction()
                # The ORM's ``WHERE version = :loaded`` matched no row: someone else won.
                if stale_version is not None and isinstance(exc, StaleDataError):
                    return Failure(stale_version)
                return Failure(classify(exc, unique_violation=unique_violation))

        return guarded

    return decorate(method) if method is not None else decorate


def _session_of(repository: object) -> AsyncSession | None:
    session = getattr(repository, "_session", None)
    return session if isinstance(session, AsyncSession) else None
