"""Guards on the shape of ``src/``: the limits the team keeps, checked on every run.

A file past 400 lines probably holds two ideas, a function past 60 lines two steps
(migrations excepted: they are read once, top to bottom). The use-case lifecycle and the
driver's error boundary live in one place each; these tests fail when a copy creeps back.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).parents[1] / "src" / "dashtam"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def test_no_source_file_is_over_the_limit() -> None:
    long = {
        str(path.relative_to(SRC)): lines
        for path in _modules()
        if (lines := len(path.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_is_over_the_limit() -> None:
    long: dict[str, int] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SRC)}:{node.name}"] = length
    assert long == {}


def _files_containing(text: str, under: Path = SRC) -> dict[str, int]:
    return {
        str(path.relative_to(SRC)): count
        for path in sorted(under.rglob("*.py"))
        if (count := path.read_text().count(text))
    }


def test_failures_are_recorded_by_the_lifecycle_only() -> None:
    assert _files_containing("record_failure(") == {"application/lifecycle.py": 2}
    callers = _files_containing(".audit_after_rollback(", SRC / "application")
    assert callers == {"application/lifecycle.py": 2}  # writes and reads


def test_database_errors_are_classified_at_one_boundary() -> None:
    persistence = SRC / "infrastructure" / "persistence"
    assert sum(_files_containing("except DB_ERRORS", persistence).values()) <= 3
