"""Declarative base: UUIDv7 keys, UTC timestamps, immutable and mutable flavours."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import MetaData, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from dashtam.core.clock import utcnow
from dashtam.core.ids import new_id
from dashtam.infrastructure.persistence.types import UTCDateTime

# Deterministic constraint names: migrations can drop/alter them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Root of every model; owns the metadata that migrations compare against."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), UUID: Uuid()}


class BaseModel(Base):
    """Immutable rows: UUIDv7 primary key and ``created_at`` only."""

    __abstract__ = True

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(
        nullable=False, default=utcnow, server_default=func.current_timestamp()
    )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(id={self.id})>"


class BaseMutableModel(BaseModel):
    """Mutable rows: ``updated_at`` maintained on every update, ``version`` for optimistic locking.

    SQLAlchemy adds ``WHERE version = :loaded`` to each UPDATE; zero rows matched raises
    ``StaleDataError``, which repositories turn into a ``ConflictError``.
    """

    __abstract__ = True

    updated_at: Mapped[datetime] = mapped_column(
        nullable=False, default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )
    version: Mapped[int] = mapped_column(nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - declared_attr is a classmethod
        return {"version_id_col": cls.version}
