"""A ``LoggerProtocol`` that remembers every call, for assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class LogRecord:
    level: str
    event: str
    args: tuple[Any, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)


class RecordingLogger:
    def __init__(self) -> None:
        self.records: list[LogRecord] = []

    def debug(self, event: str, *args: Any, **fields: Any) -> None:
        self.records.append(LogRecord("debug", event, args, fields))

    def info(self, event: str, *args: Any, **fields: Any) -> None:
        self.records.append(LogRecord("info", event, args, fields))

    def warning(self, event: str, *args: Any, **fields: Any) -> None:
        self.records.append(LogRecord("warning", event, args, fields))

    def error(self, event: str, *args: Any, **fields: Any) -> None:
        self.records.append(LogRecord("error", event, args, fields))

    def exception(self, event: str, *args: Any, **fields: Any) -> None:
        self.records.append(LogRecord("exception", event, args, fields))

    def events(self, level: str | None = None) -> list[str]:
        """Event names logged, in order (optionally only at ``level``)."""
        return [r.event for r in self.records if level is None or r.level == level]

    def find(self, event: str) -> list[LogRecord]:
        return [r for r in self.records if r.event == event]
