"""Hot reads as Core rows, turned into entities by the models' own ``to_entity``.

Loading ORM instances (identity map, instance state, attribute instrumentation) costs more
than the statement on the paths every request takes (authentication, single-row reads). A
model's ``to_entity`` only reads attributes named like its columns, so it can read a Core row
through a plain namespace instead; one mapping from row to entity stays in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from sqlalchemy import Label, Table

from dashtam.infrastructure.persistence.base import Base

ModelT = TypeVar("ModelT", bound=Base)


@cache
def _names_and_labels(model: type[Base], prefix: str) -> tuple[tuple[str, str], ...]:
    table = cast(Table, model.__table__)
    return tuple((column.key, prefix + column.key) for column in table.columns)


def as_model(model: type[ModelT], values: Mapping[Any, Any], prefix: str = "") -> ModelT:
    """``values`` (a row's ``_mapping``, selected with ``columns_of(model, prefix)``) read as
    an instance of ``model`` by ``to_entity``.

    The columns are copied into a namespace at once: a view answering through ``__getattr__``
    pays for a failed lookup (an ``AttributeError`` made and dropped) on every attribute,
    six times the copy's cost.
    """
    fields = {name: values[label] for name, label in _names_and_labels(model, prefix)}
    return cast(ModelT, SimpleNamespace(**fields))


def columns_of(model: type[Base], prefix: str = "") -> list[Label[Any]]:
    """Every column of ``model``'s table, labelled ``prefix + name`` (to join two tables)."""
    table = cast(Table, model.__table__)
    return [column.label(prefix + column.key) for column in table.columns]
