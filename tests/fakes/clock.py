"""A clock that stands still until a test moves it (handlers take ``clock=``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


class FakeClock:
    """Call it for "now"; ``advance`` moves time forward. Always timezone-aware UTC."""

    def __init__(self, start: datetime = START) -> None:
        if start.tzinfo is None:
            raise ValueError("the fake clock needs an aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**parts)``; returns the new "now"."""
        step = delta if delta is not None else timedelta(**parts)
        if step < timedelta(0):
            raise ValueError("time does not run backwards")
        self.now += step
        return self.now
