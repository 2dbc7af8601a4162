"""Claiming a setup token against a SimpleFIN server on loopback."""

from __future__ import annotations

import base64
import socket

import pytest

from dashtam.core.result import Failure, Success
from dashtam.domain.providers.live import AccessGrant
from dashtam.infrastructure.providers.simplefin import SimplefinClient
from tests.simplefin_bridge import SimplefinBridge


def _client(**overrides: object) -> SimplefinClient:
    return SimplefinClient(allow_loopback_http=True, **overrides)  # type: ignore[arg-type]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_a_claim_yields_the_access_url_once(simplefin_bridge: SimplefinBridge) -> None:
    token = simplefin_bridge.issue_setup_token()

    first = await _client().claim(token)
    second = await _client().claim(token)

    match first:
        case Success(AccessGrant(access_url=url)):
            assert url.reveal().startswith("http://user")
            assert url.reveal().endswith("/simplefin")
        case _:
            pytest.fail(f"claim failed: {first}")
    assert isinstance(second, Failure)
    assert second.error.code == "setup_token_claimed"
    assert simplefin_bridge.count("/claim/" + _token_path(token)) == 2


async def test_a_token_never_issued_is_refused_like_a_claimed_one(
    simplefin_bridge: SimplefinBridge,
) -> None:
    token = _b64(f"{simplefin_bridge.base_url}/simplefin/claim/never-issued")
    result = await _client().claim(token)
    assert isinstance(result, Failure)
    assert result.error.code == "setup_token_claimed"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "invalid_setup_token"),
        ("not base64 at all!", "invalid_setup_token"),
        (base64.b64encode(b"\xff\xfe\x00binary").decode(), "invalid_setup_token"),
        (_b64("just some words"), "setup_token_not_a_url"),
        (_b64("ftp://bridge.example/claim/x"), "setup_token_not_a_url"),
        (_b64("https://user:pw@bridge.example/claim/x"), "setup_token_not_a_url"),
        (_b64("http://bridge.example/claim/x"), "setup_token_not_https"),
    ],
)
async def test_bad_tokens_are_refused_without_a_request(
    simplefin_bridge: SimplefinBridge, token: str, code: str
) -> None:
    result = await _client().claim(token)
    assert isinstance(result, Failure)
    assert result.error.code == code
    assert simplefin_bridge.count() == 0


async def test_loopback_http_needs_the_flag(simplefin_bridge: SimplefinBridge) -> None:
    token = simplefin_bridge.issue_setup_token()
    result = await SimplefinClient().claim(token)
    assert isinstance(result, Failure)
    assert result.error.code == "setup_token_not_https"
    assert simplefin_bridge.count() == 0
    # The same token still works for a client that allows loopback: nothing was spent.
    assert isinstance(await _client().claim(token), Success)


async def test_url_safe_base64_without_padding_is_accepted(
    simplefin_bridge: SimplefinBridge,
) -> None:
    token = simplefin_bridge.issue_setup_token()
    url_safe = base64.urlsafe_b64encode(base64.b64decode(token)).decode().rstrip("=")
    assert isinstance(await _client().claim(url_safe), Success)


async def test_a_slow_claim_times_out(simplefin_bridge: SimplefinBridge) -> None:
    simplefin_bridge.behaviour.delay_seconds = 2.0
    token = simplefin_bridge.issue_setup_token()

    result = await _client(timeout_seconds=0.3).claim(token)

    assert isinstance(result, Failure)
    assert result.error.code == "bridge_timeout"
    assert result.error.retryable  # type: ignore[attr-defined]


async def test_an_unreachable_server_is_a_distinct_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port now: the connection is refused.
    result = await _client().claim(_b64(f"http://127.0.0.1:{port}/simplefin/claim/x"))
    assert isinstance(result, Failure)
    assert result.error.code == "bridge_unreachable"


async def test_a_claim_answer_that_is_not_an_access_url_is_refused(
    simplefin_bridge: SimplefinBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simplefin_bridge, "_claim", lambda token: "not a url")
    result = await _client().claim(simplefin_bridge.issue_setup_token())
    assert isinstance(result, Failure)
    assert result.error.code == "bridge_bad_response"


def _token_path(token: str) -> str:
    return base64.b64decode(token).decode().rsplit("/", 1)[1]
