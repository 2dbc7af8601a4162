"""Column types that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import MAX_PREC, Context, Decimal, Inexact, InvalidOperation
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, even on SQLite (which stores naive text).

    Naive datetimes are refused on the way in: guessing their zone is how audit times drift.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store UTC without an offset so text ordering is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected datetime value {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class DecimalAmount(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(20, 4) on PostgreSQL, scaled BIGINT on SQLite.

    SQLite has no decimal type (NUMERIC affinity turns values into floats), so amounts are
    stored there as integers of 1/10,000ths: exact, and still ordered and comparable in SQL.
    """

    impl = Numeric(20, 4)
    cache_ok = True
    _SCALE = Decimal(10) ** 4

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(20, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"amounts must be Decimal, not {type(value).__name__}")
        scaled = value * self._SCALE
        # NUMERIC(20, 4) would round a fifth place silently on PostgreSQL: refuse it everywhere.
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than 4 decimal places")
        return int(scaled) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / self._SCALE).quantize(Decimal("0.0001"))
        return Decimal(value)


QUANTITY_STEP = Decimal(1).scaleb(-10)  # 10 places: domain.investments.QUANTITY_PLACES
# Quantize without ever rounding: any digit lost (an eleventh place) raises ``Inexact``.
_EXACT = Context(prec=MAX_PREC, traps=[Inexact, InvalidOperation])


class DecimalQuantity(TypeDecorator[Decimal]):
    """Exact units and unit prices: NUMERIC(38, 10) on PostgreSQL, decimal TEXT on SQLite.

    SQLite's NUMERIC affinity would turn values into floats, and 10 places in a scaled BIGINT
    overflow at 9.2e8 units, so SQLite stores one canonical text per value (10 places, no
    exponent, no negative zero): exact and unbounded, and equal values are equal text. Text
    does not order like numbers, so SQL comparisons (<, >, ORDER BY, SUM) on a quantity are
    not supported on SQLite: compare in Python. Read back, a value has 10 places on both.
    """

    impl = Numeric(38, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(38, 10, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = quantity(value)
        return f"{exact:f}" if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(QUANTITY_STEP, context=_EXACT)


def quantity(value: Decimal) -> Decimal:
    """``value`` with exactly 10 places; refuses floats, NaN/infinities and an eleventh place.

    NUMERIC(38, 10) would round an eleventh place silently on PostgreSQL: refused everywhere.
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"quantities must be Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite quantity")
    try:
        exact = value.quantize(QUANTITY_STEP, context=_EXACT)
    except (Inexact, InvalidOperation):
        raise ValueError(f"{value} has more than 10 decimal places") from None
    # -0 and 0 must be one text on SQLite, or equal values would differ in a UNIQUE or '='.
    return exact.copy_abs() if exact.is_zero() else exact
