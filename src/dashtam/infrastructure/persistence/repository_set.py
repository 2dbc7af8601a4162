"""A unit of work's repositories, each made on first use in the unit of work's session."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession


class RepositorySet:
    """Repositories as attributes named in ``REPOSITORIES``, made when first read.

    A use case touches one or two of a dozen repositories; making them all on every
    ``__aenter__`` was a measurable part of a one-row read. A subclass declares each attribute
    with its type (for readers and mypy) and lists its class here; ``_use_session`` starts a
    new use (the repositories of the last one are dropped with its session).
    """

    REPOSITORIES: ClassVar[Mapping[str, Callable[..., object]]] = {}
    _session: AsyncSession | None

    def _use_session(self, session: AsyncSession | None) -> None:
        for name in self.REPOSITORIES:
            self.__dict__.pop(name, None)
        self._session = session

    if not TYPE_CHECKING:  # mypy reads the declared attributes, and flags any other name

        def __getattr__(self, name: str) -> Any:
            # Only called for attributes not set yet: a repository's first use in a session.
            make = type(self).REPOSITORIES.get(name)
            session = self.__dict__.get("_session")
            if make is None or session is None:
                raise AttributeError(name)
            repository = make(session=session)
            setattr(self, name, repository)
            return repository
