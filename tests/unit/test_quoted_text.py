"""A user's text inside an error message is shown plainly, never as a Python repr."""

from __future__ import annotations

from dashtam.core.text import quoted


def test_text_is_double_quoted_as_written() -> None:
    assert quoted("12,5x") == '"12,5x"'


def test_control_characters_are_shown_as_a_replacement_mark_not_escapes() -> None:
    assert quoted("1\x002\t3") == '"1\ufffd2\ufffd3"'
    assert "\\x" not in quoted("\x00")


def test_long_text_is_cut() -> None:
    assert quoted("x" * 100, limit=5) == '"xxxxx\u2026"'
