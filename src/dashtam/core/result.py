"""Result type: explicit success or failure instead of exceptions across boundaries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeAlias, TypeVar

# Covariant: a Failure[ValidationError] is a Failure[Error], as callers expect.
T = TypeVar("T", covariant=True)
E = TypeVar("E", covariant=True)
U = TypeVar("U")


@dataclass(frozen=True, slots=True)
class Success(Generic[T]):
    """The operation succeeded with ``value``."""

    value: T
    __match_args__ = ("value",)

    def is_success(self) -> bool:
        return True

    def is_failure(self) -> bool:
        return False

    def unwrap(self) -> T:
        return self.value

    def map(self, fn: Callable[[T], U]) -> Success[U]:
        return Success(fn(self.value))


@dataclass(frozen=True, slots=True)
class Failure(Generic[E]):
    """The operation failed with ``error``."""

    error: E
    __match_args__ = ("error",)

    def is_success(self) -> bool:
        return False

    def is_failure(self) -> bool:
        return True

    def unwrap(self) -> NoReturn:
        raise UnwrapError(self.error)

    def map(self, fn: Callable[[Any], Any]) -> Failure[E]:
        return self


class UnwrapError(RuntimeError):
    """Raised when ``unwrap()`` is called on a ``Failure``: a programming error."""

    def __init__(self, error: object) -> None:
        super().__init__(f"called unwrap() on a Failure: {error!r}")
        self.error = error


Result: TypeAlias = Success[T] | Failure[E]
