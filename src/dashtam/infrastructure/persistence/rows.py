"""Hot reads as Core rows, turned into entities by the models' own ``to_entity``.

Loading ORM instances (identity map, instance state, attribute instrumentation) costs more
than the statement on the paths every request takes (authentication, single-row reads). A
model's ``to_entity`` only reads attributes named like its columns, so it can read a Core row
through a thin view instead; one mapping from row to entity stays in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from sqlalchemy import Label, Table

from dashtam.infrastructure.persistence.base import Base

ModelT = TypeVar("ModelT", bound=Base)


class _RowView:
    __slots__ = ("_prefix", "_values")

    def __init__(self, values: Mapping[Any, Any], prefix: str) -> None:
        self._values = values
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[self._prefix + name]
        except KeyError:
            raise AttributeError(name) from None


def as_model(model: type[ModelT], values: Mapping[Any, Any], prefix: str = "") -> ModelT:
    """``values`` (a row's ``_mapping``) read as an instance of ``model`` by ``to_entity``."""
    return cast(ModelT, _RowView(values, prefix))


def columns_of(model: type[Base], prefix: str = "") -> list[Label[Any]]:
    """Every column of ``model``'s table, labelled ``prefix + name`` (to join two tables)."""
    table = cast(Table, model.__table__)
    return [column.label(prefix + column.key) for column in table.columns]
