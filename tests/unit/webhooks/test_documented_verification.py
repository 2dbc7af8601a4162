"""The verification code shown to receivers in docs/webhooks.md works on what Dashtam sends."""

from __future__ import annotations

import time
from collections.abc import Callable

from dashtam.infrastructure.webhooks.signing import signature_header
from tests.documented import documented_function

Verify = Callable[[str, str, bytes], bool]


def _documented() -> Verify:
    return documented_function("webhooks.md", "verify_dashtam_signature")


def test_the_documented_code_accepts_a_fresh_signature_and_refuses_the_rest() -> None:
    verify = _documented()
    secret, body = "whsec_doc", b'{"id":"e","type":"webhook.test"}'
    now = int(time.time())
    assert verify(secret, signature_header(secret, now, body), body)
    assert not verify(secret, signature_header(secret, now - 3600, body), body)  # replayed
    assert not verify("whsec_other", signature_header(secret, now, body), body)
    assert not verify(secret, signature_header(secret, now, body), body + b"x")
    assert not verify(secret, "v1=deadbeef", body)
