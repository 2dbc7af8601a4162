"""The figures of a stress run, printed at the end so docs/reliability.md is easy to update."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.stress.load import WRITES, Record, percentile


@dataclass(frozen=True)
class PhaseResult:
    backend: str
    fault: str
    records: list[Record]
    fault_started: float
    fault_ended: float
    recovered_after: float | None  # seconds from the end of the fault to the next 2xx write
    drained_after: float
    bound: float
    violations: list[str]

    def row(self) -> str:
        seconds = [r.seconds for r in self.records if r.status is not None]
        statuses = [r.status for r in self.records]
        acked = sum(1 for r in self.records if r.op in WRITES and r.status and r.status < 300)
        recovered = "-" if self.recovered_after is None else f"{self.recovered_after:.1f}"
        cells = [
            self.backend,
            self.fault,
            str(len(self.records)),
            str(acked),
            str(statuses.count(503) + statuses.count(507)),
            str(statuses.count(None)),
            str(sum(1 for s in statuses if s is not None and s >= 500 and s not in (503, 507))),
            f"{percentile(seconds, 0.5) * 1000:.0f}",
            f"{percentile(seconds, 0.99) * 1000:.0f}",
            f"{max(seconds, default=0.0) * 1000:.0f}",
            recovered,
            f"{self.drained_after:.1f}",
            str(len(self.violations)),
        ]
        return "| " + " | ".join(cells) + " |"


RESULTS: list[PhaseResult] = []
NOTES: list[str] = []
HEADER = (
    "| backend | fault | requests | acked writes | 503/507 | dropped | other 5xx "
    "| p50 ms | p99 ms | max ms | recovered s | drained s | violations |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def summary() -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    lines = [f"Stress run {now} on {machine}", "", HEADER]
    lines += [result.row() for result in RESULTS]
    if RESULTS:
        lines.append(f"\nlatency bound: {RESULTS[0].bound:.1f} s (from the configured timeouts)")
    for result in RESULTS:
        for violation in result.violations[:10]:
            lines.append(f"- {result.backend}/{result.fault}: {violation}")
    lines += [f"- {note}" for note in NOTES]
    return "\n".join(lines)
