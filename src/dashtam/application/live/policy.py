"""When a live connection is synced, and over which windows (docs/sync.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from dashtam.domain.providers.live import MAX_FETCH_WINDOW


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncPolicy:
    interval: timedelta = timedelta(hours=4)
    first_days: int = 90
    # Later syncs reach back this far before the last success: late postings, pending->posted.
    overlap: timedelta = timedelta(days=7)
    # The SimpleFIN Bridge allows 24 requests a day per access; more gets the access disabled.
    max_requests_per_day: int = 24
    backoff_base: timedelta = timedelta(minutes=5)
    backoff_max: timedelta = timedelta(hours=6)
    # How long a worker's claim on a connection lasts: longer than any sync can take.
    lease: timedelta = timedelta(minutes=15)

    def start(self, last_sync_at: datetime | None, now: datetime) -> datetime:
        if last_sync_at is None:
            return now - timedelta(days=self.first_days)
        return min(last_sync_at, now) - self.overlap

    @staticmethod
    def windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """``[start, end)`` cut into windows the bridge answers, oldest first."""
        cuts: list[tuple[datetime, datetime]] = []
        while start < end:
            stop = min(start + MAX_FETCH_WINDOW, end)
            cuts.append((start, stop))
            start = stop
        return cuts

    def after_success(self, now: datetime) -> datetime:
        return now + self.interval

    def after_failure(self, now: datetime, failures: int) -> datetime:
        """Exponential backoff from the first failure, never later than a normal interval
        beyond the cap."""
        exponent = max(0, min(failures - 1, 20))
        delay: timedelta = min(self.backoff_base * (2**exponent), self.backoff_max)
        return now + delay

    @staticmethod
    def next_budget_day(now: datetime) -> datetime:
        """The budget is per UTC day: the next one starts at midnight."""
        tomorrow = now.astimezone(UTC).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(0, 0), tzinfo=UTC)
