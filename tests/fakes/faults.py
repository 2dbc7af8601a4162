"""Fault injection for the fakes: make the next call of a named operation fail."""

from __future__ import annotations

from collections import defaultdict, deque

from dashtam.core.errors import Error


class Faults:
    """Per-operation queue of planned outcomes: ``None`` lets a call through, an error fails it."""

    def __init__(self) -> None:
        self._plans: defaultdict[str, deque[Error | None]] = defaultdict(deque)

    def fail_next(self, operation: str, error: Error, *, skip: int = 0) -> None:
        """Let ``skip`` calls of ``operation`` through, then fail the next one with ``error``."""
        self._plans[operation].extend([None] * skip)
        self._plans[operation].append(error)

    def take(self, operation: str) -> Error | None:
        plan = self._plans.get(operation)
        return plan.popleft() if plan else None
