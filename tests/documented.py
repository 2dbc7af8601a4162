"""The code a document shows, run as written: the docs' examples cannot drift from the product."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"


def documented_function(document: str, name: str) -> Callable[..., Any]:
    """Function ``name`` of the one ``python`` block of ``docs/<document>``."""
    path = DOCS / document
    [code] = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)
    scope: dict[str, object] = {}
    exec(compile(code, str(path), "exec"), scope)  # noqa: S102 - our own documentation
    function = scope[name]
    assert callable(function)
    return function
