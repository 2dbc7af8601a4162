"""What differs between PostgreSQL and SQLite, for the repositories that write in bulk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dashtam.infrastructure.persistence.base import Base


def insert_for(session: AsyncSession) -> Callable[[type[Base]], Any]:
    """The dialect's INSERT, which knows ON CONFLICT on both PostgreSQL and SQLite."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
