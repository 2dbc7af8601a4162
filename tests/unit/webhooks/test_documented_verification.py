"""The verification code shown to receivers in docs/webhooks.md works on what Dashtam sends."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from dashtam.infrastructure.webhooks.signing import signature_header

DOC = Path(__file__).resolve().parents[3] / "docs" / "webhooks.md"
Verify = Callable[[str, str, bytes], bool]


def _documented() -> Verify:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    scope: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
    verify = scope["verify_dashtam_signature"]
    assert callable(verify)
    return verify  # type: ignore[return-value]


def test_the_documented_code_accepts_a_fresh_signature_and_refuses_the_rest() -> None:
    verify = _documented()
    secret, body = "whsec_doc", b'{"id":"e","type":"webhook.test"}'
    now = int(time.time())
    assert verify(secret, signature_header(secret, now, body), body)
    assert not verify(secret, signature_header(secret, now - 3600, body), body)  # replayed
    assert not verify("whsec_other", signature_header(secret, now, body), body)
    assert not verify(secret, signature_header(secret, now, body), body + b"x")
    assert not verify(secret, "v1=deadbeef", body)
