"""Showing a user's own text inside a message, plainly."""

from __future__ import annotations

SHOWN_LENGTH = 40


def quoted(value: str, *, limit: int = SHOWN_LENGTH) -> str:
    """``value`` in double quotes for a message: cut to ``limit`` characters, and control or
    invisible characters shown as U+FFFD, never as Python escapes (``'\\x00'``)."""
    shown = "".join(char if char.isprintable() else "\ufffd" for char in value)
    if len(shown) > limit:
        shown = shown[:limit] + "\u2026"
    return f'"{shown}"'
